//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "ladder", description = "Enterprise cultivation registry, grading engine, review workflow and quota rollup. Errors are RFC 9457 problem documents (application/problem+json)."),
    modifiers(&BearerAuth),
    paths(
        routes::system::healthz, routes::system::readyz, routes::system::metrics,
        routes::auth::login, routes::auth::refresh, routes::auth::logout, routes::auth::register, routes::auth::token, routes::auth::me,
        routes::users::create_user, routes::users::list_users, routes::users::get_user, routes::users::update_user,
        routes::users::create_client, routes::users::list_clients, routes::users::update_client,
        routes::reference::list_districts, routes::reference::list_clusters, routes::reference::list_indicators, routes::reference::list_tiers,
        routes::enterprises::create_enterprise, routes::enterprises::list_enterprises, routes::enterprises::get_enterprise,
        routes::enterprises::patch_enterprise, routes::enterprises::put_facts, routes::enterprises::get_facts, routes::enterprises::facts_history,
        routes::evaluations::create_evaluation, routes::evaluations::eligibility,
        routes::rulesets::list_rulesets, routes::rulesets::get_ruleset, routes::rulesets::create_ruleset, routes::rulesets::update_ruleset,
        routes::rulesets::publish_ruleset, routes::rulesets::retire_ruleset, routes::rulesets::test_ruleset,
        routes::quotas::list_quotas, routes::quotas::get_quota, routes::quotas::create_quota, routes::quotas::update_quota,
        routes::quotas::delete_quota, routes::quotas::rollup_report, routes::quotas::import_certifications,
        routes::applications::create_application, routes::applications::list_applications, routes::applications::get_application,
        routes::applications::submit_application, routes::applications::withdraw_application, routes::applications::assign_reviewer,
        routes::applications::decide_application, routes::applications::review_queue, routes::applications::declare_tie, routes::applications::list_ties,
        routes::certifications::list_certifications, routes::certifications::get_certification, routes::certifications::revoke_certification,
        routes::audit::list_audit, routes::audit::verify_audit,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
