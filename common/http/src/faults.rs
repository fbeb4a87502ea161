//! The process's fault plan, as handlers reach it, and the components a
//! process owns as its handlers call them: under the plan, within the
//! request's deadline.

use std::future::{ready, Ready};
use std::sync::{Arc, OnceLock};

use actix_web::{web, FromRequest, HttpRequest};

use shoplab_common::db::Pool;
use shoplab_common::deadline::Deadline;
use shoplab_common::faults::{FaultPlan, Faulty};
use shoplab_common::local::Owned;
use shoplab_common::ShopError;

use crate::run_blocking;

/// The fault plan registered as app data (`web::Data<FaultPlan>`), or none.
#[derive(Clone)]
pub struct Faults(pub Arc<FaultPlan>);

impl Faults {
    /// The components this process owns, each call one transaction on
    /// `pool`, struck by the plan as the owning component.
    fn owned(&self, pool: &Pool, deadline: Deadline) -> Faulty<Owned> {
        Faulty::new(Owned::new(pool.clone(), deadline), self.0.clone(), deadline)
    }

    /// One call of a component this process owns, as its service serves it:
    /// under the plan, one transaction of its own on `pool`, run on the
    /// blocking pool (diesel blocks). `call` drives the component's
    /// operation (`|catalog| drive(catalog.release(&order))`). Every
    /// internal step endpoint is this, and so is a group's call to a member
    /// it hosts (`microservices/service/src/hosted.rs`).
    pub async fn call<T: Send + 'static>(
        &self,
        pool: &Pool,
        deadline: Deadline,
        call: impl FnOnce(&mut Faulty<Owned>) -> Result<T, ShopError> + Send + 'static,
    ) -> Result<T, ShopError> {
        let mut component = self.owned(pool, deadline);
        run_blocking(move || call(&mut component)).await
    }
}

impl FromRequest for Faults {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        static NONE: OnceLock<Arc<FaultPlan>> = OnceLock::new();
        let plan = request
            .app_data::<web::Data<FaultPlan>>()
            .map(|plan| plan.clone().into_inner())
            .unwrap_or_else(|| NONE.get_or_init(|| Arc::new(FaultPlan::none())).clone());
        ready(Ok(Faults(plan)))
    }
}
