//! The one authorization policy: who may do what to which object. Every service that does
//! something on someone's behalf asks `caller.may(action, &resource)` before it touches the
//! database, so the HTTP routes, the CLI and the batch get the same rules. Routes never test a
//! role themselves.
//!
//! An object the caller may not see answers 404 (so ids do not leak); an object it may see
//! but not change, or an operation its role may not do, answers 403.

use crate::domain::Role;
use crate::error::{AppError, AppResult};

/// Who is calling: loaded fresh from the database on every request by the auth extractor
/// (`services::auth::load_caller`), or built by the CLI for the operator (`Caller::system`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Caller {
    pub kind: CallerKind,
    pub id: i32,
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    User,
    Client,
    /// The operator at the console (`ladder …` commands, seeding): acts as an admin and is
    /// written into the audit trail under the name it was given (`cli`, `seed:demo`).
    System,
}

/// Every protected operation. One variant per thing a caller may be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `/users`: create, list, read, change role, disable, reset password.
    ManageUsers,
    /// `/clients`: create, list, disable.
    ManageClients,
    /// `POST /enterprises`.
    CreateEnterprise,
    /// Read an enterprise, its facts, evaluations, applications and certifications.
    ReadEnterprise,
    /// Change an enterprise's profile or facts, apply for it, submit or withdraw its applications.
    EditEnterprise,
    /// Set or clear an enterprise's `verified` flag.
    VerifyEnterprise,
    /// `POST /applications/{id}/assign`.
    AssignReviewer,
    /// `POST /applications/{id}/decision`: the assigned reviewer, not tied to the enterprise.
    DecideApplication,
    /// `GET /applications/queue`.
    ReadReviewQueue,
    /// `GET /reviewers/{id}/ties`.
    ReadTies,
    /// `POST /reviewers/{id}/ties`.
    DeclareTie,
    /// `POST /certifications/{id}/revoke`.
    RevokeCertification,
    /// `POST /certifications/import`, `ladder import certifications`.
    ImportCertifications,
    /// Create, change, publish and retire rule sets.
    WriteRulesets,
    /// `POST /rulesets/{id}/test`.
    TestRuleset,
    /// Read quotas.
    ReadQuotas,
    /// Create, change and delete quotas.
    WriteQuotas,
    /// The rollup report and other reports.
    ReadReports,
    /// `GET /audit`, `GET /audit/verify`.
    ReadAudit,
    /// `GET /claims`, `POST /claims/{id}/approve|reject`.
    DecideClaims,
}

/// What an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// No particular object: the decision depends on the role alone.
    Any,
    /// An enterprise (or something that belongs to it), by id.
    Enterprise(i32),
    /// An application in review: its enterprise, its assigned reviewer, and whether the caller
    /// has declared a tie to the enterprise.
    Review {
        enterprise_id: i32,
        reviewer_id: Option<i32>,
        caller_tied: bool,
    },
    /// A reviewer's account (its declared ties).
    Reviewer(i32),
}

fn forbidden(msg: impl Into<String>) -> AppError {
    AppError::Forbidden(msg.into())
}

impl Caller {
    /// The operator at the console, with an admin's rights, audited as `name`.
    pub fn system(name: &str) -> Caller {
        Caller {
            kind: CallerKind::System,
            id: 0,
            name: name.to_string(),
            role: Role::Admin,
            enterprise_id: None,
        }
    }

    /// The name written into the audit trail and history.
    pub fn actor(&self) -> String {
        match self.kind {
            CallerKind::User => format!("user:{}:{}", self.id, self.name),
            CallerKind::Client => format!("client:{}:{}", self.id, self.name),
            CallerKind::System => self.name.clone(),
        }
    }

    pub fn subject(&self) -> String {
        match self.kind {
            CallerKind::User => format!("u:{}", self.id),
            CallerKind::Client => format!("c:{}", self.id),
            CallerKind::System => format!("s:{}", self.name),
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    /// The only enterprise whose rows this caller may list, or `None` for every enterprise.
    /// (An enterprise account without an enterprise sees nothing: `Some(-1)`.)
    pub fn enterprise_scope(&self) -> Option<i32> {
        if self.role.reads_all() {
            None
        } else {
            Some(self.enterprise_id.unwrap_or(-1))
        }
    }

    fn sees(&self, enterprise_id: i32) -> bool {
        self.role.reads_all() || self.enterprise_id == Some(enterprise_id)
    }

    fn owns_or_admin(&self, enterprise_id: i32) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Enterprise && self.enterprise_id == Some(enterprise_id))
    }

    fn role_in(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(forbidden(format!("role {} may not do this", self.role)))
        }
    }

    /// The policy. `Ok(())` when the caller may do `action` to `resource`; otherwise 404 for
    /// an object it may not see, 403 for one it may see but not act on.
    pub fn may(&self, action: Action, resource: &Resource) -> AppResult<()> {
        use Action as A;
        match action {
            A::ManageUsers
            | A::ManageClients
            | A::CreateEnterprise
            | A::VerifyEnterprise
            | A::AssignReviewer
            | A::RevokeCertification
            | A::ImportCertifications
            | A::WriteRulesets
            | A::TestRuleset
            | A::WriteQuotas
            | A::ReadAudit
            | A::DecideClaims => self.role_in(&[Role::Admin]),
            A::ReadQuotas | A::ReadReports => self.role_in(&[Role::Official, Role::Admin]),
            A::ReadEnterprise => match resource {
                Resource::Enterprise(id)
                | Resource::Review {
                    enterprise_id: id, ..
                } => {
                    if self.sees(*id) {
                        Ok(())
                    } else {
                        Err(AppError::NotFound)
                    }
                }
                _ => Ok(()),
            },
            A::EditEnterprise => match resource {
                Resource::Enterprise(id)
                | Resource::Review {
                    enterprise_id: id, ..
                } => {
                    if !self.sees(*id) {
                        Err(AppError::NotFound)
                    } else if self.owns_or_admin(*id) {
                        Ok(())
                    } else {
                        Err(forbidden(format!(
                            "role {} has read-only access to this enterprise",
                            self.role
                        )))
                    }
                }
                _ => self.role_in(&[Role::Admin, Role::Enterprise]),
            },
            A::ReadReviewQueue => self.role_in(&[Role::Reviewer]),
            A::DecideApplication => {
                if self.role != Role::Reviewer || self.kind != CallerKind::User {
                    return Err(forbidden("only the assigned reviewer may decide"));
                }
                match resource {
                    Resource::Review {
                        enterprise_id,
                        reviewer_id,
                        caller_tied,
                    } => {
                        if *reviewer_id != Some(self.id) {
                            Err(forbidden("only the assigned reviewer may decide"))
                        } else if *caller_tied {
                            Err(forbidden(format!(
                                "you have declared a tie to enterprise {enterprise_id} (conflict of interest): ask an admin to reassign"
                            )))
                        } else {
                            Ok(())
                        }
                    }
                    _ => Ok(()),
                }
            }
            A::ReadTies | A::DeclareTie => {
                let Resource::Reviewer(reviewer_id) = resource else {
                    return self.role_in(&[Role::Admin]);
                };
                let is_self = self.kind == CallerKind::User
                    && self.id == *reviewer_id
                    && self.role == Role::Reviewer;
                match self.role {
                    Role::Admin => Ok(()),
                    _ if is_self => Ok(()),
                    Role::Official if action == A::ReadTies => Ok(()),
                    Role::Official => Err(forbidden("officials have read-only access")),
                    _ => Err(AppError::NotFound),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, enterprise_id: Option<i32>) -> Caller {
        Caller {
            kind: CallerKind::User,
            id: 7,
            name: "u".into(),
            role,
            enterprise_id,
        }
    }

    fn status(r: AppResult<()>) -> u16 {
        match r {
            Ok(()) => 200,
            Err(AppError::NotFound) => 404,
            Err(AppError::Forbidden(_)) => 403,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn enterprise_objects_hide_and_forbid() {
        let own = user(Role::Enterprise, Some(1));
        assert_eq!(
            status(own.may(Action::EditEnterprise, &Resource::Enterprise(1))),
            200
        );
        assert_eq!(
            status(own.may(Action::ReadEnterprise, &Resource::Enterprise(2))),
            404
        );
        assert_eq!(
            status(own.may(Action::EditEnterprise, &Resource::Enterprise(2))),
            404
        );
        let official = user(Role::Official, None);
        assert_eq!(
            status(official.may(Action::ReadEnterprise, &Resource::Enterprise(2))),
            200
        );
        assert_eq!(
            status(official.may(Action::EditEnterprise, &Resource::Enterprise(2))),
            403
        );
        assert_eq!(
            status(
                user(Role::Reviewer, None).may(Action::EditEnterprise, &Resource::Enterprise(2))
            ),
            403
        );
        assert_eq!(
            status(user(Role::Admin, None).may(Action::EditEnterprise, &Resource::Enterprise(2))),
            200
        );
    }

    #[test]
    fn admin_only_actions() {
        for action in [
            Action::ManageUsers,
            Action::ManageClients,
            Action::RevokeCertification,
            Action::WriteRulesets,
            Action::ReadAudit,
            Action::DecideClaims,
        ] {
            for role in [Role::Enterprise, Role::Reviewer, Role::Official] {
                assert_eq!(
                    status(user(role, None).may(action, &Resource::Any)),
                    403,
                    "{action:?} {role}"
                );
            }
            assert_eq!(
                status(user(Role::Admin, None).may(action, &Resource::Any)),
                200
            );
            assert_eq!(
                status(Caller::system("cli").may(action, &Resource::Any)),
                200
            );
        }
    }

    #[test]
    fn only_the_assigned_untied_reviewer_decides() {
        let r = user(Role::Reviewer, None);
        let review = |reviewer_id, caller_tied| Resource::Review {
            enterprise_id: 3,
            reviewer_id,
            caller_tied,
        };
        assert_eq!(
            status(r.may(Action::DecideApplication, &review(Some(7), false))),
            200
        );
        assert_eq!(
            status(r.may(Action::DecideApplication, &review(Some(8), false))),
            403
        );
        assert_eq!(
            status(r.may(Action::DecideApplication, &review(Some(7), true))),
            403
        );
        assert_eq!(
            status(user(Role::Admin, None).may(Action::DecideApplication, &review(Some(7), false))),
            403
        );
    }
}
