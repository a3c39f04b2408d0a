//! The plan of an apply: what writing a [`TenantSpec`] changes in the stored tenant, one
//! line per change, like a migration plan. `tenant apply --dry-run` prints it; every write
//! records its lines in the audit log. Secrets appear only as fingerprints.

use super::slug::Slug;
use super::spec::{BranchSpec, ServiceSpec, TenantSpec, fingerprint};
use super::state::TenantState;
use secrecy::SecretString;
use std::fmt;

/// What a plan line does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Something is created (`+`).
    Add,
    /// Something is changed (`~`).
    Change,
    /// Something is deleted (`-`).
    Remove,
}

impl Op {
    fn sign(self) -> char {
        match self {
            Self::Add => '+',
            Self::Change => '~',
            Self::Remove => '-',
        }
    }
}

/// One change, e.g. `+ branch altona: phone number +494012345678`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanLine {
    /// Create, change or delete.
    pub op: Op,
    /// What, in words (no secret values).
    pub text: String,
}

impl fmt::Display for PlanLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.sign(), self.text)
    }
}

/// Every change writing a spec makes to one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantPlan {
    /// The tenant.
    pub slug: Slug,
    /// Whether the tenant is created (it did not exist).
    pub create: bool,
    /// The changes, company first, then branches, then services.
    pub lines: Vec<PlanLine>,
}

impl TenantPlan {
    /// Whether writing the spec would change nothing.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines as text, for the audit log.
    pub fn texts(&self) -> Vec<String> {
        self.lines.iter().map(ToString::to_string).collect()
    }
}

impl fmt::Display for TenantPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.create {
            "create".to_owned()
        } else if self.lines.is_empty() {
            "no changes".to_owned()
        } else {
            format!(
                "update, {} change{}",
                self.lines.len(),
                if self.lines.len() == 1 { "" } else { "s" }
            )
        };
        writeln!(f, "tenant {}: {what}", self.slug)?;
        for line in &self.lines {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

struct Lines(Vec<PlanLine>);

impl Lines {
    fn push(&mut self, op: Op, text: String) {
        self.0.push(PlanLine { op, text });
    }

    fn field<T: PartialEq + fmt::Debug>(&mut self, name: &str, old: Option<&T>, new: &T) {
        match old {
            None => self.push(Op::Add, format!("{name}: {new:?}")),
            Some(old) if old != new => {
                self.push(Op::Change, format!("{name}: {old:?} → {new:?}"));
            }
            Some(_) => {}
        }
    }

    fn secret(&mut self, name: &str, stored: Option<&String>, new: Option<&SecretString>) {
        let Some(new) = new else { return };
        let new = fingerprint(new);
        match stored {
            None => self.push(Op::Add, format!("{name}: set ({new})")),
            Some(old) if *old != new => {
                self.push(Op::Change, format!("{name}: replaced ({old} → {new})"));
            }
            Some(_) => {}
        }
    }
}

/// The plan of writing `desired` over `current` (`None`: the tenant does not exist yet).
/// Services are compared by event type id when `desired` has one, else by slug; resolve
/// slugs first to see id changes. Credentials `desired` leaves out are not compared.
pub fn plan(current: Option<&TenantState>, desired: &TenantSpec) -> TenantPlan {
    let mut lines = Lines(Vec::new());
    let old = current.map(|c| &c.spec);
    lines.field("name", old.map(|o| &o.name), &desired.name);
    lines.field(
        "locale",
        old.map(|o| o.locale.as_str()).as_ref(),
        &desired.locale.as_str(),
    );
    lines.field(
        "time_zone",
        old.map(|o| o.time_zone.name()).as_ref(),
        &desired.time_zone.name(),
    );
    optional(
        &mut lines,
        "retell.agent_id",
        old.map(|o| &o.retell.agent_id),
        &desired.retell.agent_id,
    );
    optional(
        &mut lines,
        "calcom.base_url",
        old.map(|o| &o.calcom.base_url),
        &desired.calcom.base_url,
    );
    optional(
        &mut lines,
        "calcom.team_id",
        old.map(|o| &o.calcom.team_id),
        &desired.calcom.team_id,
    );
    lines.field(
        "policy.change_notice_h",
        old.map(|o| &o.policy.change_notice_h),
        &desired.policy.change_notice_h,
    );
    lines.field(
        "policy.booking_horizon_days",
        old.map(|o| &o.policy.booking_horizon_days),
        &desired.policy.booking_horizon_days,
    );
    let stored = current.map(|c| &c.credentials);
    lines.secret(
        "retell.api_key",
        stored.and_then(|s| s.retell_api_key.as_ref()),
        desired.retell.api_key.as_ref(),
    );
    lines.secret(
        "calcom.api_key",
        stored.and_then(|s| s.calcom_api_key.as_ref()),
        desired.calcom.api_key.as_ref(),
    );
    lines.secret(
        "calcom.webhook_secret",
        stored.and_then(|s| s.calcom_webhook_secret.as_ref()),
        desired.calcom.webhook_secret.as_ref(),
    );
    sms_lines(&mut lines, current, desired);
    let old_branches = old.map_or(&[][..], |o| &o.branches[..]);
    for branch in &desired.branches {
        let before = old_branches.iter().find(|b| b.slug == branch.slug);
        branch_lines(&mut lines, before, branch);
    }
    for gone in old_branches
        .iter()
        .filter(|b| !desired.branches.iter().any(|d| d.slug == b.slug))
    {
        lines.push(Op::Remove, format!("branch {} ({})", gone.slug, gone.name));
    }
    let old_services = old.map_or(&[][..], |o| &o.services[..]);
    for service in &desired.services {
        let before = old_services.iter().find(|s| s.name == service.name);
        service_lines(&mut lines, before, service);
    }
    for gone in old_services
        .iter()
        .filter(|s| !desired.services.iter().any(|d| d.name == s.name))
    {
        lines.push(Op::Remove, format!("service {:?}", gone.name));
    }
    TenantPlan {
        slug: desired.slug.clone(),
        create: current.is_none(),
        lines: lines.0,
    }
}

/// `[sms]`: account, sender and base URL like other settings, the token as a fingerprint;
/// removing the section removes the stored token with it.
fn sms_lines(lines: &mut Lines, current: Option<&TenantState>, desired: &TenantSpec) {
    let old = current.and_then(|c| c.spec.sms.as_ref());
    let new = desired.sms.as_ref();
    optional(
        lines,
        "sms.account_sid",
        Some(&old.map(|o| o.account_sid.clone())),
        &new.map(|n| n.account_sid.clone()),
    );
    optional(
        lines,
        "sms.from",
        Some(&old.map(|o| o.from.to_string())),
        &new.map(|n| n.from.to_string()),
    );
    optional(
        lines,
        "sms.base_url",
        Some(&old.and_then(|o| o.base_url.clone())),
        &new.and_then(|n| n.base_url.clone()),
    );
    let stored = current.and_then(|c| c.credentials.sms_auth_token.as_ref());
    match new {
        Some(new) => lines.secret("sms.auth_token", stored, new.auth_token.as_ref()),
        None => {
            if let Some(old) = stored {
                lines.push(Op::Remove, format!("sms.auth_token (was {old})"));
            }
        }
    }
}

fn optional<T: PartialEq + fmt::Debug>(
    lines: &mut Lines,
    name: &str,
    old: Option<&Option<T>>,
    new: &Option<T>,
) {
    let old = old.unwrap_or(&None);
    match (old, new) {
        (None, Some(new)) => lines.push(Op::Add, format!("{name}: {new:?}")),
        (Some(old), None) => lines.push(Op::Remove, format!("{name} (was {old:?})")),
        (Some(old), Some(new)) if old != new => {
            lines.push(Op::Change, format!("{name}: {old:?} → {new:?}"));
        }
        _ => {}
    }
}

fn branch_lines(lines: &mut Lines, before: Option<&BranchSpec>, branch: &BranchSpec) {
    let slug = &branch.slug;
    match before {
        None => lines.push(Op::Add, format!("branch {slug} ({})", branch.name)),
        Some(b) if b.name != branch.name => lines.push(
            Op::Change,
            format!("branch {slug}: name {:?} → {:?}", b.name, branch.name),
        ),
        Some(_) => {}
    }
    let old_numbers = before.map_or(&[][..], |b| &b.phone_numbers[..]);
    for n in branch
        .phone_numbers
        .iter()
        .filter(|n| !old_numbers.contains(n))
    {
        lines.push(Op::Add, format!("branch {slug}: phone number {n}"));
    }
    for n in old_numbers
        .iter()
        .filter(|n| !branch.phone_numbers.contains(n))
    {
        lines.push(Op::Remove, format!("branch {slug}: phone number {n}"));
    }
    let old_hours = before.and_then(|b| b.opening_hours.as_ref());
    if before.is_none() || old_hours != branch.opening_hours.as_ref() {
        let text = branch
            .opening_hours
            .as_ref()
            .map_or_else(|| "not stated".to_owned(), ToString::to_string);
        let op = if before.is_none() {
            Op::Add
        } else {
            Op::Change
        };
        lines.push(op, format!("branch {slug}: opening hours {text}"));
    }
}

fn service_lines(lines: &mut Lines, before: Option<&ServiceSpec>, s: &ServiceSpec) {
    let name = &s.name;
    let Some(b) = before else {
        lines.push(
            Op::Add,
            format!(
                "service {name:?}: {} min, {}{}{}",
                s.duration_min,
                event_type(s),
                s.team_id.map(|t| format!(", team {t}")).unwrap_or_default(),
                branches(s)
            ),
        );
        if !s.aliases.is_empty() {
            lines.push(
                Op::Add,
                format!("service {name:?}: aliases {:?}", s.aliases),
            );
        }
        return;
    };
    if b.duration_min != s.duration_min {
        lines.push(
            Op::Change,
            format!(
                "service {name:?}: {} min → {} min",
                b.duration_min, s.duration_min
            ),
        );
    }
    let same_event_type = match s.event_type_id {
        Some(id) => b.event_type_id == Some(id),
        None => b.event_type_slug == s.event_type_slug,
    };
    if !same_event_type {
        lines.push(
            Op::Change,
            format!("service {name:?}: {} → {}", event_type(b), event_type(s)),
        );
    }
    if b.team_id != s.team_id {
        lines.push(
            Op::Change,
            format!("service {name:?}: team {:?} → {:?}", b.team_id, s.team_id),
        );
    }
    if b.aliases != s.aliases {
        lines.push(
            Op::Change,
            format!(
                "service {name:?}: aliases {:?} → {:?}",
                b.aliases, s.aliases
            ),
        );
    }
    if b.branches != s.branches {
        lines.push(
            Op::Change,
            format!(
                "service {name:?}: offered at{} →{}",
                branches_or_all(b),
                branches_or_all(s)
            ),
        );
    }
}

fn event_type(s: &ServiceSpec) -> String {
    match (s.event_type_id, &s.event_type_slug) {
        (Some(id), Some(slug)) => format!("event type {id} ({slug})"),
        (Some(id), None) => format!("event type {id}"),
        (None, Some(slug)) => format!("event type {slug:?}"),
        (None, None) => "no event type".to_owned(),
    }
}

fn branches(s: &ServiceSpec) -> String {
    s.branches
        .as_ref()
        .map(|list| format!(", at {}", join(list)))
        .unwrap_or_default()
}

fn branches_or_all(s: &ServiceSpec) -> String {
    s.branches.as_ref().map_or_else(
        || " all branches".to_owned(),
        |list| format!(" {}", join(list)),
    )
}

fn join(list: &[Slug]) -> String {
    list.iter().map(Slug::as_str).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
