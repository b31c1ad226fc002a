//! Evaluates the documented preconditions of a request against the world:
//! which state of the provider's world makes the service refuse a valid
//! request, and with which placeholder values.

use std::collections::BTreeMap;

use serde_json::Value;

use super::world::{DiskKind, Image, Instance, OsType, Owner, World};
use crate::spec::raw::{Precondition, RawTrigger};
use crate::spec::{ApiSpec, ProviderId};

/// A precondition that holds: the error it produces and what fills the
/// error message's placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub precondition: Precondition,
    /// `state:<name>` and `param:<path>` values for the message.
    pub fills: BTreeMap<String, String>,
}

/// The order in which the mock checks preconditions: where a request
/// breaks several, this decides which error it answers with. Existence
/// before state, the caller's resources before the account's quotas.
pub const PRECEDENCE: &[Precondition] = {
    use Precondition::*;
    &[
        RegionNotFound,
        RegionExportUnsupported,
        AccountNotWhitelisted,
        InstanceNotFound,
        ImageNotFound,
        SnapshotNotFound,
        InstanceBusy,
        InstanceStatusInvalid,
        InstanceRunningWithLocalSystemDisk,
        InstanceSystemDiskMissing,
        InstanceSystemDiskMountInvalid,
        DiskBusy,
        DiskStatusInvalid,
        DiskSizeBelowOriginal,
        ImageNotAvailable,
        ImageNotPrivate,
        ImagePublicOrMarket,
        ImageFromMarket,
        ImageShared,
        ImageDerivedFromMarket,
        ImageLicenseNotExportable,
        ImageOperationUnsupported,
        ImageWindows,
        ImageWindowsNotImported,
        ImageRedhat,
        ImageOsUnavailableInRegion,
        ImageLocalSystemDisk,
        ImageEncrypted,
        ImageNameMalformed,
        ImageBusy,
        ImageExporting,
        ImageTooLarge,
        ImageDataDiskExportUnsupported,
        ImageDataDisksOverLimit,
        BucketAppIdMismatch,
        BucketNotFound,
        BucketUnusable,
        BucketNotWritable,
        RoleMissing,
        ImageQuotaExceeded,
        SnapshotQuotaExceeded,
        ExportConcurrentQuotaExceeded,
        ExportWeeklyQuotaExceeded,
    ]
};

/// Alibaba's limits on exported data disks (ExportImage interface notes).
pub const EXPORT_DATA_DISKS_MAX: usize = 4;
pub const EXPORT_DATA_DISK_MAX_GB: u32 = 500;

/// Names of the parameter that carries the region, by protocol convention.
const REGION_PARAMETERS: [&str; 3] = ["regionId", "RegionId", "Region"];

/// The string values at template path `path` (`ImageIds[]`,
/// `dataDisks[].deviceName`) of `params`.
pub fn values_at(params: &Value, path: &str) -> Vec<String> {
    let mut current: Vec<&Value> = vec![params];
    for segment in path.split('.') {
        let (name, arrays) = match segment.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (segment, false),
        };
        let mut next = Vec::new();
        for v in current {
            let Some(found) = v.get(name).or_else(|| {
                // JD matches keys ignoring case.
                v.as_object().and_then(|o| {
                    o.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v)
                })
            }) else {
                continue;
            };
            match (arrays, found) {
                (true, Value::Array(items)) => next.extend(items.iter()),
                (false, v) => next.push(v),
                _ => {}
            }
        }
        current = next;
    }
    current
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Everything a precondition check needs to know about one request.
pub struct Context<'a> {
    pub api: &'a ApiSpec,
    pub params: &'a Value,
    pub world: &'a World,
    /// Each documented precondition of the API with the parameter its
    /// trigger names, read once from the error table.
    documented: Vec<(Precondition, Option<&'a str>)>,
}

impl<'a> Context<'a> {
    pub fn new(api: &'a ApiSpec, params: &'a Value, world: &'a World) -> Self {
        let documented = api
            .errors
            .iter()
            .flat_map(|e| e.triggers.iter())
            .filter_map(|t| match t {
                RawTrigger::Precondition {
                    precondition,
                    parameter,
                } => Some((*precondition, parameter.as_deref())),
                _ => None,
            })
            .collect();
        Context {
            api,
            params,
            world,
            documented,
        }
    }
}

impl Context<'_> {
    fn provider(&self) -> ProviderId {
        self.api.provider()
    }

    fn region(&self) -> Option<String> {
        REGION_PARAMETERS
            .iter()
            .find_map(|n| self.params.get(*n).and_then(Value::as_str))
            .map(str::to_string)
    }

    /// The parameter a precondition of this API names, for `p`, or for
    /// another precondition about the same resource.
    fn parameter_for(&self, p: Precondition) -> Option<String> {
        let named = |q: &Precondition| {
            self.documented
                .iter()
                .find(|(d, param)| d == q && param.is_some())
        };
        named(&p)
            .or_else(|| {
                self.documented
                    .iter()
                    .find(|(d, param)| d.resource() == p.resource() && param.is_some())
            })
            .and_then(|(_, param)| param.map(str::to_string))
    }

    fn ids(&self, p: Precondition) -> Vec<String> {
        self.parameter_for(p)
            .map(|path| values_at(self.params, &path))
            .unwrap_or_default()
    }

    fn images(&self, p: Precondition) -> Vec<&Image> {
        let region = self.region();
        self.ids(p)
            .iter()
            .filter_map(|id| self.world.image(self.provider(), region.as_deref(), id))
            .collect()
    }

    fn instance(&self) -> Option<&Instance> {
        let region = self.region();
        self.ids(Precondition::InstanceNotFound)
            .first()
            .and_then(|id| self.world.instance(self.provider(), region.as_deref(), id))
    }

    /// Number of images the request exports (Tencent exports a list).
    fn export_count(&self) -> u32 {
        let ids = self.ids(Precondition::ImageNotFound);
        ids.len().max(1) as u32
    }

    /// The request's dataDisks entries as objects.
    fn data_disk_entries(&self) -> Vec<&serde_json::Map<String, Value>> {
        self.params
            .get("dataDisks")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default()
    }
}

fn get_ci<'v>(o: &'v serde_json::Map<String, Value>, name: &str) -> Option<&'v Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn refusal(precondition: Precondition, fills: &[(&str, String)]) -> Option<Refusal> {
    Some(Refusal {
        precondition,
        fills: fills
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    })
}

fn not_found(cx: &Context<'_>, p: Precondition, state: &str, id: String) -> Option<Refusal> {
    let mut fills = vec![(state, id.clone())];
    let param = cx.parameter_for(p).map(|path| format!("param:{path}"));
    if let Some(param) = &param {
        fills.push((param.as_str(), id));
    }
    refusal(p, &fills)
}

/// The instance's data disks that an image made now would snapshot: the
/// documents exclude those the request names, whether to drop them
/// (`noDevice`) or to replace them ("如果使用 deviceName 指定了与实例中相同的盘符，
/// 那么实例中对应的云盘数据盘也不会制作快照").
pub fn snapshotted_disks<'i>(
    instance: &'i Instance,
    params: &Value,
) -> Vec<&'i super::world::AttachedDisk> {
    let named = values_at(params, "dataDisks[].deviceName");
    instance
        .data_disks
        .iter()
        .filter(|d| !named.contains(&d.device))
        .collect()
}

/// Alibaba's image-name rule (the InvalidImageName.Malformed row): 2–128
/// characters, starting with a letter or a CJK character, then letters,
/// digits, CJK, `.`, `_`, `-` or `:`, not starting with http:// or https://.
fn image_name_malformed(name: &str) -> bool {
    let count = name.chars().count();
    let starts_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c));
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || ".-_:".contains(c));
    !(2..=128).contains(&count)
        || !starts_ok
        || !chars_ok
        || name.starts_with("http://")
        || name.starts_with("https://")
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Whether `p` holds for this request in this world.
// One function a kind of resource the precondition is about, save the image, whose
// one-line arms are here.
pub fn check(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    use Precondition::*;
    let provider = cx.provider();
    let account = cx.world.account(provider);
    let image_hit =
        |pred: &dyn Fn(&Image) -> bool| cx.images(p).into_iter().find(|i| pred(i)).cloned();
    match p {
        RegionNotFound | RegionExportUnsupported | AccountNotWhitelisted => {
            region_or_account(p, cx)
        }
        ImageNotFound | SnapshotNotFound | InstanceNotFound => missing_resource(p, cx),
        InstanceBusy
        | InstanceStatusInvalid
        | InstanceRunningWithLocalSystemDisk
        | InstanceSystemDiskMissing
        | InstanceSystemDiskMountInvalid
        | DiskBusy
        | DiskStatusInvalid
        | DiskSizeBelowOriginal => instance_state(p, cx),
        BucketAppIdMismatch | BucketNotFound | BucketUnusable | BucketNotWritable | RoleMissing => {
            bucket_or_role(p, cx)
        }
        ImageQuotaExceeded
        | SnapshotQuotaExceeded
        | ExportConcurrentQuotaExceeded
        | ExportWeeklyQuotaExceeded => quota(p, cx),
        // The image arms, one line a precondition, read best side by side here.
        ImageNotAvailable => image_hit(&|i| !i.is_usable())
            .and_then(|i| refusal(p, &[("state:image.status", i.status)])),
        ImageNotPrivate => image_hit(&|i| i.owner != Owner::Private).and_then(|_| refusal(p, &[])),
        ImagePublicOrMarket => image_hit(&|i| matches!(i.owner, Owner::Public | Owner::Market))
            .and_then(|_| refusal(p, &[])),
        ImageFromMarket => image_hit(&|i| i.owner == Owner::Market).and_then(|_| refusal(p, &[])),
        ImageDerivedFromMarket => {
            image_hit(&|i| i.derived_from_market).and_then(|_| refusal(p, &[]))
        }
        ImageShared => image_hit(&|i| i.owner == Owner::Shared).and_then(|_| refusal(p, &[])),
        ImageWindows => image_hit(&|i| i.os_type == OsType::Windows).and_then(|_| refusal(p, &[])),
        ImageWindowsNotImported => image_hit(&|i| i.os_type == OsType::Windows && !i.imported)
            .and_then(|_| refusal(p, &[])),
        ImageRedhat => image_hit(&|i| {
            let platform = i.platform.to_ascii_lowercase().replace(' ', "");
            platform.contains("redhat") || platform == "rhel"
        })
        .and_then(|_| refusal(p, &[])),
        ImageLocalSystemDisk => image_hit(&|i| i.system_disk == DiskKind::Local)
            .and_then(|_| refusal(p, &[("state:image.type", "local".to_string())])),
        ImageEncrypted => image_hit(&|i| i.encrypted).and_then(|_| refusal(p, &[])),
        ImageBusy => image_hit(&|i| i.busy).and_then(|_| refusal(p, &[])),
        ImageExporting => image_hit(&|i| i.exporting).and_then(|_| refusal(p, &[])),
        ImageTooLarge => image_hit(&|i| i.size_gb > account.quotas.export_image_max_gb)
            .and_then(|_| refusal(p, &[])),
        ImageDataDiskExportUnsupported => {
            image_hit(&|i| !i.data_disks.is_empty() && !account.data_disk_export)
                .and_then(|_| refusal(p, &[]))
        }
        ImageDataDisksOverLimit => data_disks_over_limit(p, cx),
        ImageOsUnavailableInRegion => {
            let region = cx.region()?;
            let r = cx.world.region(provider, &region)?;
            image_hit(&|i| r.unavailable_os.contains(&i.platform)).and_then(|_| refusal(p, &[]))
        }
        ImageLicenseNotExportable => image_hit(&|i| !i.license_exportable).and_then(|i| {
            refusal(
                p,
                &[(
                    "state:license_detail",
                    format!("The license of image {} does not allow export.", i.id),
                )],
            )
        }),
        ImageNameMalformed => {
            image_hit(&|i| image_name_malformed(&i.name)).and_then(|_| refusal(p, &[]))
        }
        ImageOperationUnsupported => image_hit(&|i| !i.exportable).and_then(|_| refusal(p, &[])),
    }
}

/// The region and the account the request is about.
fn region_or_account(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    use Precondition::*;
    let provider = cx.provider();
    let account = cx.world.account(provider);
    match p {
        RegionNotFound => {
            let region = cx.region()?;
            cx.world
                .region(provider, &region)
                .is_none()
                .then(|| refusal(p, &[("state:region", region)]))?
        }
        RegionExportUnsupported => {
            let region = cx.region()?;
            let r = cx.world.region(provider, &region)?;
            (!r.export_supported).then(|| refusal(p, &[("state:region", region)]))?
        }
        AccountNotWhitelisted => (!account.export_whitelisted).then(|| refusal(p, &[]))?,
        // `check` sends only the preconditions above here.
        _ => None,
    }
}

/// A resource the request names that the world does not have.
fn missing_resource(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    use Precondition::*;
    let provider = cx.provider();
    match p {
        // A missing resource fills the message with the id that is
        // missing, whichever of several the request names.
        ImageNotFound => {
            let region = cx.region();
            let missing = cx
                .ids(p)
                .into_iter()
                .find(|id| cx.world.image(provider, region.as_deref(), id).is_none())?;
            not_found(cx, p, "state:image.id", missing)
        }
        SnapshotNotFound => {
            let region = cx.region();
            let missing = cx
                .ids(p)
                .into_iter()
                .find(|id| cx.world.snapshot(provider, region.as_deref(), id).is_none())?;
            not_found(cx, p, "state:snapshot.id", missing)
        }
        InstanceNotFound => {
            let region = cx.region();
            let id = cx.ids(p).into_iter().next()?;
            if cx
                .world
                .instance(provider, region.as_deref(), &id)
                .is_some()
            {
                return None;
            }
            not_found(cx, p, "state:instance.id", id)
        }
        // `check` sends only the preconditions above here.
        _ => None,
    }
}

/// The state of the instance the request names and of its disks.
fn instance_state(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    use Precondition::*;
    match p {
        InstanceBusy => {
            let task = cx.instance()?.busy_task.clone()?;
            refusal(p, &[("state:instance.task", task)])
        }
        InstanceStatusInvalid => {
            let i = cx.instance()?;
            (!["running", "stopped"].contains(&i.status.as_str()))
                .then(|| refusal(p, &[("state:instance.status", i.status.clone())]))?
        }
        InstanceRunningWithLocalSystemDisk => {
            let i = cx.instance()?;
            (i.status == "running" && i.system_disk == DiskKind::Local).then(|| refusal(p, &[]))?
        }
        InstanceSystemDiskMissing => {
            (!cx.instance()?.system_disk_attached).then(|| refusal(p, &[]))?
        }
        InstanceSystemDiskMountInvalid => {
            (!cx.instance()?.system_disk_mount_ok).then(|| refusal(p, &[]))?
        }
        DiskBusy | DiskStatusInvalid => {
            let instance = cx.instance()?;
            let disk = snapshotted_disks(instance, cx.params)
                .into_iter()
                .find(|d| match p {
                    DiskBusy => d.busy_task.is_some(),
                    _ => d.status != "in-use",
                })?;
            match p {
                DiskBusy => refusal(
                    p,
                    &[
                        ("state:disk.id", disk.id.clone()),
                        (
                            "state:disk.task",
                            disk.busy_task.clone().unwrap_or_default(),
                        ),
                    ],
                ),
                _ => refusal(
                    p,
                    &[
                        ("state:disk.id", disk.id.clone()),
                        ("state:disk.status", disk.status.clone()),
                    ],
                ),
            }
        }
        DiskSizeBelowOriginal => disk_size_below_original(p, cx),
        // `check` sends only the preconditions above here.
        _ => None,
    }
}

/// An image with more data disks, or larger ones, than an export takes.
fn data_disks_over_limit(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    let i = cx.images(p).into_iter().find(|i| {
        i.data_disks.len() > EXPORT_DATA_DISKS_MAX
            || i.data_disks
                .iter()
                .any(|d| d.size_gb > EXPORT_DATA_DISK_MAX_GB)
    })?;
    let detail = format!(
        "The image has {} data disk(s), the largest of {} GiB; at most {EXPORT_DATA_DISKS_MAX} data disks of at most {EXPORT_DATA_DISK_MAX_GB} GiB each can be exported.",
        i.data_disks.len(),
        i.data_disks.iter().map(|d| d.size_gb).max().unwrap_or(0)
    );
    refusal(p, &[("state:disk_limit_detail", detail)])
}

/// A data disk the request sizes below its original disk or the snapshot it is made from.
fn disk_size_below_original(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    let provider = cx.provider();
    let instance = cx.instance();
    let region = cx.region();
    for entry in cx.data_disk_entries() {
        let device = get_ci(entry, "deviceName").and_then(Value::as_str);
        let spec = get_ci(entry, "cloudDiskSpec").and_then(Value::as_object);
        let Some(size) = spec
            .and_then(|s| get_ci(s, "diskSizeGB"))
            .and_then(Value::as_u64)
        else {
            continue;
        };
        let original = device
            .and_then(|d| instance?.data_disks.iter().find(|x| x.device == d))
            .map(|d| d.size_gb);
        let snapshot = spec
            .and_then(|s| get_ci(s, "snapshotId"))
            .and_then(Value::as_str)
            .and_then(|id| cx.world.snapshot(provider, region.as_deref(), id))
            .map(|s| s.size_gb);
        let floor = original.into_iter().chain(snapshot).max();
        if floor.is_some_and(|f| size < u64::from(f)) {
            return refusal(
                p,
                &[(
                    "param:dataDisks[].deviceName",
                    device.unwrap_or("").to_string(),
                )],
            );
        }
    }
    None
}

/// The bucket and the role the request names.
fn bucket_or_role(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    use Precondition::*;
    let provider = cx.provider();
    let account = cx.world.account(provider);
    match p {
        BucketAppIdMismatch => {
            let name = cx.ids(p).into_iter().next()?;
            let suffix = name.rsplit_once('-').map(|(_, s)| s.to_string());
            (suffix.as_deref() != Some(account.app_id.as_str())).then(|| refusal(p, &[]))?
        }
        BucketNotFound => {
            let name = cx.ids(p).into_iter().next()?;
            let region = cx.region();
            let found = cx
                .world
                .bucket(provider, &name)
                .filter(|b| region.as_deref().is_none_or(|r| r == b.region));
            found.is_none().then(|| refusal(p, &[]))?
        }
        BucketUnusable => {
            let name = cx.ids(p).into_iter().next()?;
            let b = cx.world.bucket(provider, &name)?;
            (!b.usable).then(|| {
                refusal(
                    p,
                    &[(
                        "state:bucket_problem_detail",
                        format!("bucket {} cannot receive exported images", b.name),
                    )],
                )
            })?
        }
        BucketNotWritable => {
            let name = cx.ids(p).into_iter().next()?;
            let b = cx.world.bucket(provider, &name)?;
            (!b.writable).then(|| refusal(p, &[]))?
        }
        RoleMissing => {
            let path = cx.parameter_for(p)?;
            let name = values_at(cx.params, &path).into_iter().next().or_else(|| {
                cx.api
                    .param(&path)
                    .and_then(|param| param.default.as_ref())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })?;
            cx.world
                .role(provider, &name)
                .is_none()
                .then(|| refusal(p, &[("state:role", name)]))?
        }
        // `check` sends only the preconditions above here.
        _ => None,
    }
}

/// The account's quotas.
fn quota(p: Precondition, cx: &Context<'_>) -> Option<Refusal> {
    use Precondition::*;
    let provider = cx.provider();
    let account = cx.world.account(provider);
    match p {
        ImageQuotaExceeded => {
            (cx.world.private_images(provider) >= account.quotas.images).then(|| refusal(p, &[]))?
        }
        SnapshotQuotaExceeded => {
            let new = cx
                .instance()
                .map_or(0, |i| snapshotted_disks(i, cx.params).len() as u32);
            (new > 0 && cx.world.snapshot_count(provider) + new > account.quotas.snapshots)
                .then(|| refusal(p, &[]))?
        }
        ExportConcurrentQuotaExceeded => {
            let running = cx.world.running_exports(provider);
            let quota = account.quotas.concurrent_exports;
            (running + cx.export_count() > quota).then(|| {
                refusal(
                    p,
                    &[(
                        "state:concurrent_quota_detail",
                        format!("{running} export task(s) are running; the quota is {quota}."),
                    )],
                )
            })?
        }
        ExportWeeklyQuotaExceeded => {
            let started = cx.world.exports_started(provider);
            let quota = account.quotas.weekly_exports;
            (started + cx.export_count() > quota).then(|| {
                refusal(
                    p,
                    &[(
                        "state:weekly_quota_detail",
                        format!("{started} export task(s) were started this week; the quota is {quota}."),
                    )],
                )
            })?
        }
        // `check` sends only the preconditions above here.
        _ => None,
    }
}

/// The first precondition of `api`'s documented errors that holds, in
/// [`PRECEDENCE`] order.
pub fn first_refusal(cx: &Context<'_>) -> Option<Refusal> {
    PRECEDENCE
        .iter()
        .filter(|p| cx.documented.iter().any(|(d, _)| d == *p))
        .find_map(|p| check(*p, cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_precondition_has_a_place_in_the_precedence() {
        use crate::spec::raw::Precondition as P;
        let all: Vec<P> =
            serde_json::from_value(serde_json::to_value(PRECEDENCE).unwrap()).unwrap();
        assert_eq!(all.len(), PRECEDENCE.len());
        // Every variant, by its serde name, is listed exactly once.
        let schema = schemars::schema_for!(P);
        let names = serde_json::to_value(&schema).unwrap()["enum"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let listed: Vec<String> = PRECEDENCE
            .iter()
            .map(|p| {
                serde_json::to_value(p)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        for name in names.iter().filter_map(|n| n.as_str()) {
            assert_eq!(listed.iter().filter(|l| *l == name).count(), 1, "{name}");
        }
    }

    #[test]
    fn values_at_follows_arrays_and_ignores_case() {
        let v = serde_json::json!({"ImageIds": ["a", "b"], "dataDisks": [{"deviceName": "vdb"}, {"DeviceName": "vdc"}]});
        assert_eq!(values_at(&v, "ImageIds[]"), vec!["a", "b"]);
        assert_eq!(values_at(&v, "dataDisks[].deviceName"), vec!["vdb", "vdc"]);
        assert!(values_at(&v, "nothing").is_empty());
    }

    #[test]
    fn alibaba_image_name_rule() {
        assert!(!image_name_malformed("centos-7.9_export"));
        assert!(!image_name_malformed("镜像一"));
        assert!(image_name_malformed("1starts-with-digit"));
        assert!(image_name_malformed("a"));
        assert!(image_name_malformed("http://x"));
        assert!(image_name_malformed(&"a".repeat(129)));
        assert!(image_name_malformed("has space"));
    }
}
