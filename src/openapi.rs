//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every operation documents the problem documents it can answer with: 400 (malformed
/// request, bad path or query), 422 (validation), 401/403 when it needs a token, 404 when
/// its path names an object, 413 when it takes a body; and every 4xx response carries the
/// `Problem` schema as `application/problem+json`. (The reliability harness's schemathesis
/// run found these undocumented; see RELIABILITY.md.)
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let content = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add: Vec<(&str, &str)> = vec![
                    ("400", "malformed request, path or query"),
                    ("422", "invalid input: the problem names each field"),
                ];
                if secured {
                    add.push(("401", "no valid access token"));
                    add.push(("403", "the caller's role may not do this"));
                }
                if path.contains('{') {
                    add.push(("404", "no such object, or not visible to the caller"));
                }
                if op.request_body.is_some() {
                    add.push(("413", "the body is larger than 1 MiB"));
                }
                let responses = &mut op.responses.responses;
                for (code, description) in add {
                    responses.entry(code.to_string()).or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/problem+json", content())
                                .build(),
                        )
                    });
                }
                for (code, response) in responses.iter_mut() {
                    if let (true, RefOr::T(r)) = (code.starts_with('4'), response)
                        && r.content.is_empty()
                    {
                        r.content
                            .insert("application/problem+json".to_string(), RefOr::T(content()));
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "ladder", description = "Enterprise cultivation registry, grading engine, review workflow and quota rollup. Errors are RFC 9457 problem documents (application/problem+json)."),
    modifiers(&BearerAuth, &ProblemResponses),
    paths(
        routes::system::healthz, routes::system::readyz, routes::system::metrics,
        routes::auth::login, routes::auth::refresh, routes::auth::logout, routes::auth::register, routes::auth::token, routes::auth::me,
        routes::users::create_user, routes::users::list_users, routes::users::get_user, routes::users::update_user,
        routes::users::create_client, routes::users::list_clients, routes::users::update_client,
        routes::reference::list_districts, routes::reference::list_clusters, routes::reference::list_indicators, routes::reference::list_tiers,
        routes::enterprises::create_enterprise, routes::enterprises::list_enterprises, routes::enterprises::get_enterprise,
        routes::enterprises::patch_enterprise, routes::enterprises::put_facts, routes::enterprises::patch_facts, routes::enterprises::get_facts, routes::enterprises::facts_history,
        routes::evaluations::create_evaluation, routes::evaluations::eligibility,
        routes::rulesets::list_rulesets, routes::rulesets::get_ruleset, routes::rulesets::create_ruleset, routes::rulesets::update_ruleset,
        routes::rulesets::publish_ruleset, routes::rulesets::retire_ruleset, routes::rulesets::test_ruleset,
        routes::quotas::list_quotas, routes::quotas::get_quota, routes::quotas::create_quota, routes::quotas::update_quota,
        routes::quotas::delete_quota, routes::quotas::rollup_report, routes::quotas::import_certifications,
        routes::officials::get_cultivation, routes::officials::get_forecast, routes::officials::post_impact,
        routes::applications::create_application, routes::applications::list_applications, routes::applications::get_application,
        routes::applications::submit_application, routes::applications::withdraw_application, routes::applications::assign_reviewer,
        routes::applications::decide_application, routes::applications::review_queue, routes::applications::declare_tie, routes::applications::list_ties,
        routes::certifications::list_certifications, routes::certifications::get_certification, routes::certifications::revoke_certification,
        routes::audit::list_audit, routes::audit::verify_audit, routes::audit::audit_key,
        routes::claims::list_claims, routes::claims::approve_claim, routes::claims::reject_claim,
        routes::reference::patch_tier,
        routes::attachments::upload, routes::attachments::list, routes::attachments::download, routes::attachments::remove,
        routes::publicity::public_list, routes::publicity::object, routes::publicity::list_objections, routes::publicity::resolve,
        routes::publicity::get_calendar, routes::publicity::put_calendar, routes::publicity::notifications, routes::publicity::mark_read,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
