//! What a successful call changes in the world, and the result it answers
//! with. Export starts a task; import and create make an image.

use serde_json::{json, Map, Value};

use super::preconditions::values_at;
use super::world::{DiskKind, Image, OsType, Owner, Snapshot, Task, World};
use crate::protocol::{provider_for, MockEffect, TaskIdStyle};
use crate::spec::{ApiSpec, Param, ParamKind, ProviderId};

/// Ids the mock hands out: deterministic, so that snapshots of its answers
/// are stable.
#[derive(Debug, Default, Clone)]
pub struct IdSource {
    next: u64,
}

impl IdSource {
    pub fn next_number(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// `prefix` + eight lowercase alphanumerics, the shape of Tencent and JD ids.
    pub fn short(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut n = self.next_number().wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut id = String::from(prefix);
        for _ in 0..8 {
            id.push(ALPHABET[(n % 36) as usize] as char);
            n /= 36;
        }
        id
    }
}

fn text(params: &Value, name: &str) -> Option<String> {
    params.get(name).and_then(Value::as_str).map(str::to_string)
}

fn region_of(provider: ProviderId, params: &Value) -> String {
    text(params, provider_for(provider).region_parameter()).unwrap_or_default()
}

fn start_export(world: &mut World, provider: ProviderId, id: String, image: &str) {
    if let Some(i) = world.image_mut(provider, image) {
        i.exporting = true;
    }
    world.tasks.push(Task {
        provider,
        id,
        kind: "export".into(),
        running: true,
        image_id: Some(image.to_string()),
    });
}

/// Applies a successful call of `api` to `world` and returns the business
/// result to answer with.
pub fn apply(api: &ApiSpec, params: &Value, world: &mut World, ids: &mut IdSource) -> Value {
    let provider = api.provider();
    let region = region_of(provider, params);
    match provider_for(provider).mock_effect(api.name()) {
        Some(MockEffect::Export {
            image,
            task,
            task_id,
            region: region_field,
        }) => {
            let id = match task_id {
                TaskIdStyle::Number => ids.next_number().to_string(),
                TaskIdStyle::Prefixed(prefix) => ids.short(prefix),
            };
            let image = text(params, image).unwrap_or_default();
            start_export(world, provider, id.clone(), &image);
            let mut result = Map::new();
            if let Some(field) = region_field {
                result.insert(field.into(), Value::String(region));
            }
            result.insert(task.into(), Value::String(id));
            Value::Object(result)
        }
        Some(MockEffect::Import) => import_image(provider, region, params, world, ids),
        Some(MockEffect::CreateFromInstance) => {
            image_from_instance(provider, region, params, world, ids)
        }
        Some(MockEffect::ExportToObjectStorage) => {
            let task = 100_000_000 + ids.next_number();
            let format = text(params, "ExportFormat").unwrap_or_else(|| "RAW".into());
            let prefixes = values_at(params, "FileNamePrefixList[]");
            let mut sources = values_at(params, "ImageIds[]");
            if sources.is_empty() {
                sources = values_at(params, "SnapshotIds[]");
            }
            let mut paths = Vec::new();
            for (i, source) in sources.iter().enumerate() {
                start_export(world, provider, task.to_string(), source);
                let prefix = prefixes.get(i).cloned().unwrap_or_default();
                paths.push(Value::String(format!(
                    "/{prefix}{source}_system_{}.{}",
                    ids.short("snap-"),
                    format.to_ascii_lowercase()
                )));
            }
            json!({ "TaskId": task, "CosPaths": paths })
        }
        None => generic_result(&api.response, ids),
    }
}

/// An imported image, usable at once, and its running import task.
fn import_image(
    provider: ProviderId,
    region: String,
    params: &Value,
    world: &mut World,
    ids: &mut IdSource,
) -> Value {
    let image_id = ids.short("img-");
    let task = ids.next_number().to_string();
    world.images.push(Image {
        provider,
        id: image_id.clone(),
        region,
        name: text(params, "imageName").unwrap_or_default(),
        owner: Owner::Private,
        derived_from_market: false,
        os_type: if text(params, "osType").as_deref() == Some("windows") {
            OsType::Windows
        } else {
            OsType::Linux
        },
        platform: text(params, "platform").unwrap_or_default(),
        status: super::world::usable_image_status(provider).into(),
        system_disk: DiskKind::Cloud,
        size_gb: params
            .get("systemDiskSizeGB")
            .and_then(Value::as_u64)
            .unwrap_or(40) as u32,
        data_disks: vec![],
        encrypted: false,
        imported: true,
        busy: false,
        exporting: false,
        license_exportable: true,
        exportable: true,
    });
    world.tasks.push(Task {
        provider,
        id: task.clone(),
        kind: "import".into(),
        running: true,
        image_id: Some(image_id.clone()),
    });
    json!({ "imageId": image_id, "taskId": task })
}

/// An image of an instance, with a snapshot of each disk it takes.
fn image_from_instance(
    provider: ProviderId,
    region: String,
    params: &Value,
    world: &mut World,
    ids: &mut IdSource,
) -> Value {
    let image_id = ids.short("img-");
    let instance = text(params, "instanceId")
        .and_then(|id| world.instance(provider, Some(&region), &id).cloned());
    let mut snapshots = Vec::new();
    if let Some(instance) = &instance {
        for disk in super::preconditions::snapshotted_disks(instance, params) {
            snapshots.push(Snapshot {
                provider,
                id: ids.short("snapshot-"),
                region: region.clone(),
                size_gb: disk.size_gb,
            });
        }
    }
    world.images.push(Image {
        provider,
        id: image_id.clone(),
        region: region.clone(),
        name: text(params, "name").unwrap_or_default(),
        owner: Owner::Private,
        derived_from_market: false,
        os_type: OsType::Linux,
        platform: "CentOS".into(),
        status: super::world::usable_image_status(provider).into(),
        system_disk: instance.as_ref().map_or(DiskKind::Cloud, |i| i.system_disk),
        size_gb: 40,
        data_disks: snapshots
            .iter()
            .map(|s| super::world::ImageDataDisk {
                snapshot_id: s.id.clone(),
                size_gb: s.size_gb,
            })
            .collect(),
        encrypted: false,
        imported: false,
        busy: false,
        exporting: false,
        license_exportable: true,
        exportable: true,
    });
    world.snapshots.extend(snapshots);
    json!({ "imageId": image_id })
}

/// A result shaped by the response schema alone, for an API the mock has
/// no behaviour for.
pub fn generic_result(fields: &[Param], ids: &mut IdSource) -> Value {
    let mut out = Map::new();
    for f in fields {
        out.insert(f.name.clone(), generic_value(f, ids));
    }
    Value::Object(out)
}

fn generic_value(p: &Param, ids: &mut IdSource) -> Value {
    match &p.kind {
        ParamKind::String(_) => Value::String(ids.short("id-")),
        ParamKind::Integer(_) => Value::from(ids.next_number()),
        ParamKind::Boolean => Value::Bool(true),
        ParamKind::Array(a) => Value::Array(vec![generic_value(&a.items, ids)]),
        ParamKind::Object(o) => generic_result(&o.fields, ids),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each provider's export effect reads the image from a parameter the
    /// spec has, and marks that image exporting.
    #[test]
    fn exports_mark_the_image_named_by_the_providers_parameter() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
        let specs = crate::spec::Specs::load_dir(&dir).expect("the shipped specs load");
        let mut checked = 0;
        for api in specs.apis() {
            let provider = provider_for(api.provider());
            let Some(MockEffect::Export { image, task, .. }) = provider.mock_effect(api.name())
            else {
                continue;
            };
            assert!(
                api.all_params().iter().any(|p| p.name == image),
                "{}: the spec has no parameter {image}",
                api.name()
            );
            let mut world = super::super::default_world();
            let chosen = world
                .images
                .iter()
                .find(|i| i.provider == api.provider())
                .expect("the default world has an image of every provider")
                .clone();
            let params = json!({ image: chosen.id, provider.region_parameter(): chosen.region });
            let result = apply(api, &params, &mut world, &mut IdSource::default());
            assert!(result.get(task).is_some(), "{}: {result}", api.name());
            let after = world.image_mut(api.provider(), &chosen.id).unwrap();
            assert!(
                after.exporting,
                "{}: the image is not exporting",
                api.name()
            );
            checked += 1;
        }
        assert_eq!(checked, 2, "JD's exportImage and Alibaba's ExportImage");
    }
}
