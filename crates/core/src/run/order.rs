//! Record order for `send` (`send.order: records`): a payload goes out as soon as the payloads
//! of this run that the API needs first have their final outcome, instead of waiting for a whole
//! dependency level:
//!
//! - those it references: by identity (the set of the reference's values, as validate's
//!   reference index matches them: role-named references and `educationOrganizationReference`
//!   too), and the descriptor values it uses that this run defines;
//! - the payloads of earlier dependency levels that name the same person (`studentUniqueId`,
//!   `staffUniqueId`, `contactUniqueId`, `parentUniqueId`, at the top or in a reference): the
//!   API's relationship-based authorization wants a student's enrollment before the student's
//!   section associations.
//!
//! A reference that matches no payload of this run waits for its target endpoint to finish when
//! that endpoint has payloads in this run at an earlier level (a value written differently, such
//! as `"255901"` for `255901`, is then as safe as in level order), and goes out at once otherwise.
//!
//! Payloads are taken in stream order, which is dependency order: when a payload is admitted,
//! every payload of the earlier levels has been admitted, so what it needs is known and the
//! first payload still under way never waits (no deadlock).

use crate::api::openapi::Model;
use crate::uniform::UniformMap;
use crate::validate::keys::{record_key, reference_key, KeyMap, KeySet};
use crate::validate::references::record_values;
use crate::validate::shape::RefGroups;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

/// The person fields the relationship-based authorization follows.
const PERSON_FIELDS: [&str; 4] = [
    "studentUniqueId",
    "staffUniqueId",
    "contactUniqueId",
    "parentUniqueId",
];

/// A key of one endpoint (`ep`, in the order's numbering) and a value key.
fn scoped(ep: usize, key: u128) -> u128 {
    key ^ (ep as u128 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
}

/// The key of a descriptor value (`uri://ed-fi.org/GradeLevelDescriptor#Ninth grade`): the API
/// compares them without case.
fn descriptor_key(value: &str) -> u128 {
    if value.is_ascii() {
        let mut h = Xxh3::new();
        let mut buf = [0u8; 64];
        for chunk in value.as_bytes().chunks(64) {
            let b = &mut buf[..chunk.len()];
            b.copy_from_slice(chunk);
            b.make_ascii_lowercase();
            h.update(b);
        }
        h.digest128()
    } else {
        xxh3_128(value.to_lowercase().as_bytes())
    }
}

fn person_key(field: &str, value: &Value) -> u128 {
    let mut h = Xxh3::new();
    h.update(field.as_bytes());
    h.update(&[0x1f]);
    match value {
        Value::String(s) => h.update(s.as_bytes()),
        other => h.update(other.to_string().as_bytes()),
    }
    h.digest128()
}

/// The wait list of an endpoint's end.
fn endpoint_waiters(ep: usize) -> u128 {
    scoped(ep, u128::MAX)
}

/// An endpoint of the run.
#[derive(Debug)]
struct Ep {
    level: usize,
    model: Option<usize>,
    /// Admitted payloads not finished yet.
    left: u32,
    /// Record keys of its payloads admitted so far (forgotten once it has finished).
    seen: KeySet,
}

/// What a payload waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Need {
    /// The payloads with this (scoped) record key.
    Record(u128),
    /// Every payload of an endpoint.
    Endpoint(usize),
    /// The payloads naming this person at a level below this one.
    Person { key: u128, below: usize },
}

/// What an admitted payload is to the order: what it waits for, and what waits for it.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    pub needs: Vec<Need>,
    ep: usize,
    level: usize,
    records: Vec<u128>,
    persons: Vec<u128>,
}

/// The order of one send: the endpoints of the run, the payloads under way and what they are.
pub(crate) struct RecordOrder<'m> {
    model: &'m Model,
    groups: RefGroups,
    eps: RefCell<Vec<Ep>>,
    /// The order's number of each model endpoint of the run.
    by_model: RefCell<Vec<Option<usize>>>,
    /// The endpoint the stream is in.
    streaming: Cell<usize>,
    /// Payloads under way by scoped record key.
    pending: RefCell<KeyMap<u32>>,
    /// Payloads under way by person: (level, how many), only levels with some.
    persons: RefCell<UniformMap<u128, Vec<(usize, u32)>>>,
    waiters: RefCell<KeyMap<Vec<Waker>>>,
    waiting: Cell<usize>,
    /// Reference property → its group; descriptor property → its endpoint in the order.
    refs_by_name: RefCell<FxHashMap<String, Option<usize>>>,
    descriptors_by_name: RefCell<FxHashMap<String, Option<usize>>>,
}

impl<'m> RecordOrder<'m> {
    pub fn new(model: &'m Model) -> RecordOrder<'m> {
        RecordOrder {
            model,
            groups: RefGroups::new(model),
            eps: RefCell::new(Vec::new()),
            by_model: RefCell::new(vec![None; model.endpoints.len()]),
            streaming: Cell::new(0),
            pending: RefCell::default(),
            persons: RefCell::default(),
            waiters: RefCell::default(),
            waiting: Cell::new(0),
            refs_by_name: RefCell::default(),
            descriptors_by_name: RefCell::default(),
        }
    }

    /// Adds the next endpoint of the run (in dependency order); its number in the order.
    pub fn add_endpoint(&self, namespace: &str, name: &str, level: usize) -> usize {
        let model = self.model.find(namespace, name);
        self.descriptors_by_name.borrow_mut().clear();
        let mut eps = self.eps.borrow_mut();
        let ep = eps.len();
        if let Some(m) = model {
            self.by_model.borrow_mut()[m].get_or_insert(ep);
        }
        eps.push(Ep {
            level,
            model,
            left: 0,
            seen: KeySet::default(),
        });
        ep
    }

    /// How many admitted payloads wait for others.
    pub fn waiting(&self) -> usize {
        self.waiting.get()
    }

    /// Takes in a payload of endpoint `ep` (in stream order): finds what it needs, then
    /// registers what it is.
    pub fn admit(&self, ep: usize, payload: &Value) -> Admitted {
        self.stream_at(ep);
        let level = self.eps.borrow()[ep].level;
        let mut a = Admitted {
            ep,
            level,
            ..Admitted::default()
        };
        if let Some(obj) = payload.as_object() {
            self.needs_of(obj, level, &mut a.needs, 0);
            self.own_keys(ep, payload, obj, &mut a);
        }
        a.needs.sort_unstable();
        a.needs.dedup();
        self.register(&a);
        a
    }

    /// Moving on to endpoint `ep`: earlier endpoints that have finished forget their keys.
    fn stream_at(&self, ep: usize) {
        if ep > self.streaming.get() {
            self.streaming.set(ep);
            for e in self.eps.borrow_mut()[..ep].iter_mut() {
                if e.left == 0 {
                    e.seen = KeySet::default();
                }
            }
        }
    }

    /// The references, descriptors and persons of an object (at any depth).
    fn needs_of(
        &self,
        obj: &Map<String, Value>,
        level: usize,
        needs: &mut Vec<Need>,
        depth: usize,
    ) {
        for (k, v) in obj {
            match v {
                Value::Object(inner) if k.ends_with("Reference") => {
                    if let Some(group) = self.reference_group(k) {
                        let by_model = self.by_model.borrow();
                        let targets = self
                            .groups
                            .endpoints(group)
                            .iter()
                            .filter_map(|m| by_model[*m]);
                        if targets.clone().next().is_some() {
                            self.need_key(targets, reference_key(inner), level, needs);
                        }
                    }
                    if depth == 0 {
                        self.person_needs(inner, level, needs);
                    }
                }
                Value::Object(inner) if depth < 8 => self.needs_of(inner, level, needs, depth + 1),
                Value::Array(items) if depth < 8 => {
                    for item in items {
                        if let Value::Object(inner) = item {
                            self.needs_of(inner, level, needs, depth + 1);
                        }
                    }
                }
                Value::String(s) if k.ends_with("Descriptor") => {
                    if let Some(t) = self.descriptor_target(k) {
                        self.need_key(std::iter::once(t), descriptor_key(s), level, needs);
                    }
                }
                _ => {}
            }
        }
        if depth == 0 {
            self.person_needs(obj, level, needs);
        }
    }

    fn reference_group(&self, property: &str) -> Option<usize> {
        if let Some(g) = self.refs_by_name.borrow().get(property) {
            return *g;
        }
        let g = self.groups.for_reference_name(property);
        self.refs_by_name
            .borrow_mut()
            .insert(property.to_string(), g);
        g
    }

    /// The endpoint of the run that defines the values of a descriptor property.
    fn descriptor_target(&self, property: &str) -> Option<usize> {
        if let Some(t) = self.descriptors_by_name.borrow().get(property) {
            return *t;
        }
        let t = self
            .model
            .descriptor_for_property(property)
            .and_then(|m| self.by_model.borrow()[m]);
        self.descriptors_by_name
            .borrow_mut()
            .insert(property.to_string(), t);
        t
    }

    /// A reference to `key` in one of `targets`: the payloads under way with it; when no
    /// payload of the run has it, the end of the targets of earlier levels still under way.
    fn need_key(
        &self,
        targets: impl Iterator<Item = usize> + Clone,
        key: u128,
        level: usize,
        needs: &mut Vec<Need>,
    ) {
        let eps = self.eps.borrow();
        let pending = self.pending.borrow();
        let mut found = false;
        for t in targets.clone() {
            let k = scoped(t, key);
            if pending.contains_key(&k) {
                needs.push(Need::Record(k));
                found = true;
            } else if eps[t].seen.contains(&k) {
                found = true;
            }
        }
        if !found {
            for t in targets {
                if eps[t].left > 0 && eps[t].level < level {
                    needs.push(Need::Endpoint(t));
                }
            }
        }
    }

    fn person_needs(&self, obj: &Map<String, Value>, level: usize, needs: &mut Vec<Need>) {
        let persons = self.persons.borrow();
        for field in PERSON_FIELDS {
            if let Some(v) = obj.get(field) {
                let key = person_key(field, v);
                let earlier = persons
                    .get(&key)
                    .is_some_and(|ls| ls.iter().any(|(l, _)| *l < level));
                if earlier {
                    needs.push(Need::Person { key, below: level });
                }
            }
        }
    }

    /// What a payload is: its record key (or descriptor value), the persons it names.
    fn own_keys(&self, ep: usize, payload: &Value, obj: &Map<String, Value>, a: &mut Admitted) {
        let model_ep = self.eps.borrow()[ep].model;
        if let Some(m) = model_ep {
            if self.model.endpoints[m].is_descriptor {
                if let (Some(Value::String(ns)), Some(Value::String(code))) =
                    (obj.get("namespace"), obj.get("codeValue"))
                {
                    a.records
                        .push(scoped(ep, descriptor_key(&format!("{ns}#{code}"))));
                }
            } else if let Some(values) = record_values(self.model, m, payload) {
                a.records.push(scoped(ep, record_key(&values)));
            }
        }
        let mut add_persons = |o: &Map<String, Value>| {
            for field in PERSON_FIELDS {
                if let Some(v) = o.get(field) {
                    a.persons.push(person_key(field, v));
                }
            }
        };
        add_persons(obj);
        for (k, v) in obj {
            if let (true, Value::Object(inner)) = (k.ends_with("Reference"), v) {
                add_persons(inner);
            }
        }
        a.persons.sort_unstable();
        a.persons.dedup();
    }

    fn register(&self, a: &Admitted) {
        let mut eps = self.eps.borrow_mut();
        let e = &mut eps[a.ep];
        e.left += 1;
        let mut pending = self.pending.borrow_mut();
        for k in &a.records {
            e.seen.insert(*k);
            *pending.entry(*k).or_default() += 1;
        }
        let mut persons = self.persons.borrow_mut();
        for p in &a.persons {
            let levels = persons.entry(*p).or_default();
            match levels.iter_mut().find(|(l, _)| *l == a.level) {
                Some((_, n)) => *n += 1,
                None => levels.push((a.level, 1)),
            }
        }
    }

    /// A payload has its final outcome: what waited for it may go.
    pub fn finished(&self, a: &Admitted) {
        let mut wake: Vec<u128> = Vec::new();
        {
            let mut pending = self.pending.borrow_mut();
            for k in &a.records {
                if let Some(n) = pending.get_mut(k) {
                    *n -= 1;
                    if *n == 0 {
                        pending.remove(k);
                        wake.push(*k);
                    }
                }
            }
            let mut persons = self.persons.borrow_mut();
            for p in &a.persons {
                let Some(levels) = persons.get_mut(p) else {
                    continue;
                };
                if let Some(i) = levels.iter().position(|(l, _)| *l == a.level) {
                    levels[i].1 -= 1;
                    if levels[i].1 == 0 {
                        levels.swap_remove(i);
                        wake.push(*p);
                    }
                }
                if levels.is_empty() {
                    persons.remove(p);
                }
            }
            let mut eps = self.eps.borrow_mut();
            let e = &mut eps[a.ep];
            e.left -= 1;
            if e.left == 0 {
                wake.push(endpoint_waiters(a.ep));
                if a.ep < self.streaming.get() {
                    e.seen = KeySet::default();
                }
            }
        }
        let mut waiters = self.waiters.borrow_mut();
        for k in wake {
            if let Some(ws) = waiters.remove(&k) {
                ws.into_iter().for_each(Waker::wake);
            }
        }
    }

    fn satisfied(&self, need: &Need) -> bool {
        match *need {
            Need::Record(k) => !self.pending.borrow().contains_key(&k),
            Need::Endpoint(ep) => self.eps.borrow()[ep].left == 0,
            Need::Person { key, below } => !self
                .persons
                .borrow()
                .get(&key)
                .is_some_and(|ls| ls.iter().any(|(l, _)| *l < below)),
        }
    }

    fn wait_list(need: &Need) -> u128 {
        match *need {
            Need::Record(k) => k,
            Need::Endpoint(ep) => endpoint_waiters(ep),
            Need::Person { key, .. } => key,
        }
    }

    /// Until every need of `a` is met.
    pub fn ready<'o>(&'o self, a: &'o Admitted) -> Ready<'o, 'm> {
        Ready {
            order: self,
            needs: &a.needs,
            next: 0,
            counted: false,
        }
    }
}

/// The wait of one payload for its needs (it counts as waiting while pending).
pub(crate) struct Ready<'o, 'm> {
    order: &'o RecordOrder<'m>,
    needs: &'o [Need],
    next: usize,
    counted: bool,
}

impl Ready<'_, '_> {
    fn uncount(&mut self) {
        if self.counted {
            self.counted = false;
            let w = &self.order.waiting;
            w.set(w.get() - 1);
        }
    }
}

impl Future for Ready<'_, '_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        while let Some(need) = self.needs.get(self.next) {
            if self.order.satisfied(need) {
                self.next += 1;
                continue;
            }
            let list = RecordOrder::wait_list(need);
            self.order
                .waiters
                .borrow_mut()
                .entry(list)
                .or_default()
                .push(cx.waker().clone());
            if !self.counted {
                self.counted = true;
                let w = &self.order.waiting;
                w.set(w.get() + 1);
            }
            return Poll::Pending;
        }
        self.uncount();
        Poll::Ready(())
    }
}

impl Drop for Ready<'_, '_> {
    fn drop(&mut self) {
        self.uncount();
    }
}

// reads the shared Ed-Fi documents from disk: native only
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::openapi_model;
    use futures::FutureExt;
    use serde_json::json;

    fn model() -> Model {
        openapi_model(&[
            "odsapi-7.x_resources_openapi3_ds5.0.json",
            "odsapi-7.x_descriptors_openapi3_ds5.0.json",
        ])
    }

    /// The endpoints of a small run, at their levels.
    fn order(model: &Model) -> RecordOrder<'_> {
        let o = RecordOrder::new(model);
        for (name, level) in [
            ("gradeLevelDescriptors", 0),
            ("localEducationAgencies", 1),
            ("schools", 2),
            ("students", 2),
            ("studentSchoolAssociations", 3),
            ("studentEducationOrganizationAssociations", 3),
        ] {
            o.add_endpoint("ed-fi", name, level);
        }
        o
    }

    fn ready(o: &RecordOrder<'_>, a: &Admitted) -> bool {
        o.ready(a).now_or_never().is_some()
    }

    fn enrollment(student: &str, school: impl Into<Value>, grade: &str) -> Value {
        json!({"studentReference": {"studentUniqueId": student}, "schoolReference": {"schoolId": school.into()},
               "entryDate": "2024-08-20", "entryGradeLevelDescriptor": grade})
    }

    #[test]
    fn a_payload_waits_for_what_it_references_and_only_that() {
        let m = model();
        let o = order(&m);
        let school = o.admit(2, &json!({"schoolId": 255901, "nameOfInstitution": "A"}));
        let s1 = o.admit(3, &json!({"studentUniqueId": "s1"}));
        let s2 = o.admit(3, &json!({"studentUniqueId": "s2"}));
        assert!(school.needs.is_empty() && s1.needs.is_empty());
        let e1 = o.admit(4, &enrollment("s1", 255901, "uri://x#Ninth"));
        assert_eq!(
            e1.needs.len(),
            3,
            "the school, the student, the student's payloads: {:?}",
            e1.needs
        );
        assert!(!ready(&o, &e1));
        o.finished(&school);
        o.finished(&s1);
        assert!(
            ready(&o, &e1),
            "s2 is still under way, and e1 does not need it"
        );
        o.finished(&s2);
        // once referenced payloads have finished, a new reference to them goes at once
        let e2 = o.admit(4, &enrollment("s1", 255901, "uri://x#Tenth"));
        assert!(e2.needs.is_empty(), "{:?}", e2.needs);
    }

    #[test]
    fn an_unmatched_reference_waits_for_its_endpoint_only_when_the_run_has_some() {
        let m = model();
        let o = order(&m);
        let school = o.admit(2, &json!({"schoolId": 255901}));
        // "255901" is the same key as 255901; 1 is nothing of this run: wait for the schools
        let e = o.admit(4, &enrollment("nobody", 1, "uri://x#Ninth"));
        assert_eq!(e.needs, vec![Need::Endpoint(2)]);
        o.finished(&school);
        assert!(ready(&o, &e));
        // no payload of this run in the targets' endpoints: at once
        let seoa = o.admit(
            5,
            &json!({"studentReference": {"studentUniqueId": "x"}, "educationOrganizationReference": {"educationOrganizationId": 7}}),
        );
        assert!(seoa.needs.is_empty(), "{:?}", seoa.needs);
    }

    #[test]
    fn education_organization_references_and_descriptors_of_the_run() {
        let m = model();
        let o = order(&m);
        let grade = o.admit(
            0,
            &json!({"namespace": "uri://ed-fi.org/GradeLevelDescriptor", "codeValue": "Ninth grade", "shortDescription": "9"}),
        );
        let lea = o.admit(1, &json!({"localEducationAgencyId": 255}));
        let seoa = o.admit(
            5,
            &json!({"studentReference": {"studentUniqueId": "x"}, "educationOrganizationReference": {"educationOrganizationId": 255}}),
        );
        assert_eq!(
            seoa.needs,
            vec![Need::Record(scoped(1, record_key(&[&json!(255)])))]
        );
        // descriptors are matched without case
        let e = o.admit(
            4,
            &enrollment("y", 3, "URI://ED-FI.ORG/GradeLevelDescriptor#ninth GRADE"),
        );
        assert!(e.needs.contains(&Need::Record(scoped(
            0,
            descriptor_key("uri://ed-fi.org/gradeleveldescriptor#ninth grade")
        ))));
        o.finished(&grade);
        o.finished(&lea);
        assert!(ready(&o, &seoa));
        assert!(ready(&o, &e));
    }

    #[test]
    fn a_person_s_payloads_of_earlier_levels_go_first() {
        let m = model();
        let o = order(&m);
        // an enrollment of s1 (level 3), then a payload of a later level naming s1 in a
        // reference that is not the student's own
        let e = o.admit(4, &enrollment("s1", 9, "uri://x#Ninth"));
        o.add_endpoint("ed-fi", "studentSectionAssociations", 4);
        let ssa = o.admit(
            6,
            &json!({"studentReference": {"studentUniqueId": "s1"}, "sectionReference": {"sectionIdentifier": "q"}, "beginDate": "2024-08-20"}),
        );
        assert!(
            ssa.needs
                .iter()
                .any(|n| matches!(n, Need::Person { below: 4, .. })),
            "{:?}",
            ssa.needs
        );
        // the same person at the same level does not wait
        let other = o.admit(5, &json!({"studentReference": {"studentUniqueId": "s1"}, "educationOrganizationReference": {"educationOrganizationId": 9}}));
        assert!(!other.needs.iter().any(|n| matches!(n, Need::Person { .. })));
        let mut wait = Box::pin(o.ready(&ssa));
        assert!((&mut wait).now_or_never().is_none());
        assert_eq!(o.waiting(), 1, "a pending wait counts as waiting");
        o.finished(&e);
        o.finished(&other);
        assert!((&mut wait).now_or_never().is_some());
        assert_eq!(o.waiting(), 0);
    }
}
