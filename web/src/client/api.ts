// `GET /api/devices`: the device ids a dashboard token can watch and whether it may send commands.
// The answer's type (`DeviceList`, `Access`) and its parser are the shared wire definitions of `protocol.ts`.

import { deviceListFrom } from "./parse";
import type { DeviceList } from "./protocol";

/** Why the list could not be had. */
export type DeviceListFailure =
  /** 401: no token, or not a bearer token. */
  | { reason: "unauthorized"; message: string }
  /** 403: wrong, malformed, revoked or disabled token (the hub never says which). */
  | { reason: "forbidden"; message: string }
  /** 429: too many failed attempts from this address; retry after `retryAfterS` seconds. */
  | { reason: "rate_limited"; message: string; retryAfterS: number | null }
  /** The hub could not be reached, or answered with an error or something unexpected. */
  | { reason: "unavailable"; message: string };

/** The outcome of {@link fetchDevices}. */
export type DeviceListResult = ({ ok: true } & DeviceList) | ({ ok: false } & DeviceListFailure);

/** Asks the hub at `baseUrl` which devices `token` covers. Never throws. */
export async function fetchDevices(
  baseUrl: string,
  token: string,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<DeviceListResult> {
  let response: Response;
  try {
    response = await fetchImpl(new URL("/api/devices", baseUrl).toString(), {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    return { ok: false, reason: "unavailable", message: "The hub cannot be reached. Check the connection." };
  }
  return interpret(response.status, response.headers.get("Retry-After"), await safeJson(response));
}

/** Turns a status, `Retry-After` and body into a result. Pure. */
export function interpret(status: number, retryAfter: string | null, body: unknown): DeviceListResult {
  if (status === 200) {
    const list = deviceListFrom(body);
    if (list.ok) return { ok: true, ...list.message };
    return { ok: false, reason: "unavailable", message: "The hub answered with something unexpected." };
  }
  return { ok: false, ...failureOf(status, retryAfter) };
}

/** Why a dashboard request to the hub answered `status` failed, in words a person can act on. Pure. */
export function failureOf(status: number, retryAfter: string | null): DeviceListFailure {
  switch (status) {
    case 401:
      return { reason: "unauthorized", message: "Enter a dashboard token." };
    case 403:
      return {
        reason: "forbidden",
        message: "The hub refused this token. It may be mistyped, revoked, or not a dashboard token.",
      };
    case 429: {
      const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : null;
      const wait = seconds === null ? "a minute" : `${seconds} s`;
      return {
        reason: "rate_limited",
        retryAfterS: seconds,
        message: `Too many failed attempts from this address. Try again in ${wait}.`,
      };
    }
    default:
      return { reason: "unavailable", message: `The hub could not answer (HTTP ${status}). Try again later.` };
  }
}

async function safeJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}
