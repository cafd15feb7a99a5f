// Entry point: mounts the dashboard.

import { render } from "preact";

import { App } from "./ui/app";
import "uplot/dist/uPlot.min.css";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App baseUrl={location.origin} />, root);
