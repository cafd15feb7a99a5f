//! The hub Worker: routes device and dashboard WebSockets to one Durable Object per device.

#[cfg(target_arch = "wasm32")]
mod glue {
    use worker::*;

    #[event(fetch)]
    async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
        Response::error("not found", 404)
    }

    #[durable_object(websocket)]
    pub struct DeviceHub {
        _state: State,
    }

    impl DurableObject for DeviceHub {
        fn new(state: State, _env: Env) -> Self {
            Self { _state: state }
        }

        async fn fetch(&self, _req: Request) -> Result<Response> {
            Response::error("not found", 404)
        }
    }
}
