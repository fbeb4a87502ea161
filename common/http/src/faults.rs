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

/// The fault plan registered as app data (`web::Data<FaultPlan>`), or none.
#[derive(Clone)]
pub struct Faults(pub Arc<FaultPlan>);

impl Faults {
    /// The components this process owns, each call one transaction on
    /// `pool`, struck by the plan as the owning component.
    pub fn owned(&self, pool: &Pool, deadline: Deadline) -> Faulty<Owned> {
        Faulty::new(Owned::new(pool.clone(), deadline), self.0.clone(), deadline)
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
