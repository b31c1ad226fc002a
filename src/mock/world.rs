//! The provider's world as the mock sees it: regions, images, instances,
//! snapshots, buckets, roles, quotas and tasks. Loaded from a JSON world
//! file (`cases/worlds/`) or built in code; every documented precondition
//! error is a state of this world.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::spec::ProviderId;

/// Everything the mock knows, for all three providers at once.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    /// The JSON Schema the world file names, if any.
    pub schema: Option<String>,
    /// What the world is for, in a sentence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// One account per provider; absent means the defaults.
    #[serde(default)]
    pub accounts: BTreeMap<ProviderId, Account>,
    #[serde(default)]
    /// Regions, with what each offers.
    pub regions: Vec<Region>,
    #[serde(default)]
    /// Images, custom and public.
    pub images: Vec<Image>,
    #[serde(default)]
    /// Instances.
    pub instances: Vec<Instance>,
    #[serde(default)]
    /// Snapshots.
    pub snapshots: Vec<Snapshot>,
    #[serde(default)]
    /// Object-storage buckets.
    pub buckets: Vec<Bucket>,
    #[serde(default)]
    /// Roles (Alibaba's RAM roles for export).
    pub roles: Vec<Role>,
    #[serde(default)]
    /// Tasks started so far (exports, imports).
    pub tasks: Vec<Task>,
}

/// The caller's account with one provider.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Tencent's AppId: the suffix of the account's COS bucket names.
    #[serde(default = "default_app_id")]
    pub app_id: String,
    /// Alibaba: the account is on the image-export whitelist.
    #[serde(default = "yes")]
    pub export_whitelisted: bool,
    /// Alibaba: exporting images with data-disk snapshots is enabled.
    #[serde(default = "yes")]
    pub data_disk_export: bool,
    #[serde(default)]
    pub quotas: Quotas,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            app_id: default_app_id(),
            export_whitelisted: true,
            data_disk_export: true,
            quotas: Quotas::default(),
        }
    }
}

fn default_app_id() -> String {
    "1250000000".into()
}

fn yes() -> bool {
    true
}

/// Limits on what the account may have or start.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Private images the account may hold.
    pub images: u32,
    /// Snapshots the account may hold.
    pub snapshots: u32,
    /// Export tasks running at once.
    pub concurrent_exports: u32,
    /// Export tasks started in one week.
    pub weekly_exports: u32,
    /// Largest image (GiB) that can be exported (Tencent's
    /// ImageTooLargeExportUnsupported; the threshold is undocumented).
    pub export_image_max_gb: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            images: 100,
            snapshots: 200,
            concurrent_exports: 5,
            weekly_exports: 100,
            export_image_max_gb: 500,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub provider: ProviderId,
    pub id: String,
    /// Image import and export are offered here.
    #[serde(default = "yes")]
    pub export_supported: bool,
    /// OS names whose images cannot be exported here (Tencent InvalidImageOsName).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable_os: Vec<String>,
}

/// Who an image belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Private,
    Public,
    Market,
    Shared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsType {
    Linux,
    Windows,
}

/// Where a system disk lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskKind {
    Cloud,
    Local,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub provider: ProviderId,
    pub id: String,
    pub region: String,
    #[serde(default = "default_image_name")]
    pub name: String,
    #[serde(default = "private")]
    pub owner: Owner,
    /// A private image made from an instance created from a market image.
    #[serde(default)]
    pub derived_from_market: bool,
    #[serde(default = "linux")]
    pub os_type: OsType,
    /// Platform as the provider names it (`CentOS`, `Windows Server`, `RedHat`…).
    #[serde(default = "default_platform")]
    pub platform: String,
    /// The status the provider reports. Usable for export: the provider's
    /// own word ([`usable_image_status`]) or the neutral `available`.
    #[serde(default = "available")]
    pub status: String,
    #[serde(default = "cloud")]
    pub system_disk: DiskKind,
    #[serde(default = "forty")]
    pub size_gb: u32,
    /// Data-disk snapshots that belong to the image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<ImageDataDisk>,
    #[serde(default)]
    pub encrypted: bool,
    /// Made by importing an image file (JD lets imported Windows images out).
    #[serde(default)]
    pub imported: bool,
    /// Another task (not an export) runs on the image.
    #[serde(default)]
    pub busy: bool,
    /// An export of the image is under way.
    #[serde(default)]
    pub exporting: bool,
    /// Its license allows export (Alibaba InvalidImageLicense.NotSupported).
    #[serde(default = "yes")]
    pub license_exportable: bool,
    /// The provider supports exporting this kind of image at all (Tencent
    /// InvalidParameterValue.InvalidImageId).
    #[serde(default = "yes")]
    pub exportable: bool,
}

fn default_image_name() -> String {
    "image".into()
}
fn private() -> Owner {
    Owner::Private
}
fn linux() -> OsType {
    OsType::Linux
}
fn default_platform() -> String {
    "CentOS".into()
}
fn available() -> String {
    "available".into()
}

/// The image status each provider reports for a usable image: JD `ready`
/// (createImage notes), Alibaba `Available`, Tencent `NORMAL`.
pub fn usable_image_status(provider: ProviderId) -> &'static str {
    crate::protocol::provider_for(provider).usable_image_status()
}

impl Image {
    /// Whether the image's status lets it be used (exported).
    pub fn is_usable(&self) -> bool {
        self.status == "available" || self.status == usable_image_status(self.provider)
    }
}
fn cloud() -> DiskKind {
    DiskKind::Cloud
}
fn forty() -> u32 {
    40
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDataDisk {
    pub snapshot_id: String,
    pub size_gb: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub provider: ProviderId,
    pub id: String,
    pub region: String,
    /// `running`, `stopped`, or another (transitional) status.
    #[serde(default = "stopped")]
    pub status: String,
    #[serde(default = "cloud")]
    pub system_disk: DiskKind,
    /// A system disk is attached at all.
    #[serde(default = "yes")]
    pub system_disk_attached: bool,
    /// The system disk's attachment is in a normal state.
    #[serde(default = "yes")]
    pub system_disk_mount_ok: bool,
    /// A task under way on the instance (e.g. `resize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_task: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<AttachedDisk>,
}

fn stopped() -> String {
    "stopped".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttachedDisk {
    pub id: String,
    /// `vdb`…
    pub device: String,
    pub size_gb: u32,
    /// `in-use` is normal for an attached disk.
    #[serde(default = "in_use")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_task: Option<String>,
}

fn in_use() -> String {
    "in-use".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub provider: ProviderId,
    pub id: String,
    pub region: String,
    pub size_gb: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    pub provider: ProviderId,
    pub name: String,
    pub region: String,
    /// The export service may write to it.
    #[serde(default = "yes")]
    pub writable: bool,
    /// Usable for export at all (Alibaba InvalidOSSBucket.NotMatched: e.g.
    /// an archive-class bucket).
    #[serde(default = "yes")]
    pub usable: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub provider: ProviderId,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub provider: ProviderId,
    pub id: String,
    /// `export`, `import`, `create`.
    pub kind: String,
    /// Still running (counts toward concurrent quotas).
    #[serde(default = "yes")]
    pub running: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

/// Why a world file could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct WorldError {
    /// The world file.
    pub file: String,
    /// The line of the problem.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// The problem, in the file's terms.
    pub message: String,
}

impl World {
    /// Parses a world file's text; errors name the line and column.
    pub fn from_json(name: &str, text: &str) -> Result<World, WorldError> {
        serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |m| m.0)
                .to_string();
            WorldError {
                file: name.to_string(),
                line: e.line(),
                column: e.column(),
                message,
            }
        })
    }

    /// Load a world from a JSON file; the error names the file and what is wrong.
    pub fn load(path: &std::path::Path) -> Result<World, WorldError> {
        let text = std::fs::read_to_string(path).map_err(|e| WorldError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        World::from_json(&path.display().to_string(), &text)
    }

    /// The account with `provider` (defaults where the world names none).
    pub fn account(&self, provider: ProviderId) -> Account {
        self.accounts.get(&provider).cloned().unwrap_or_default()
    }

    /// Region `id` of `provider`, if the world has it.
    pub fn region(&self, provider: ProviderId, id: &str) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| r.provider == provider && r.id == id)
    }

    /// An image of `provider`, in `region` when one is given.
    pub fn image(&self, provider: ProviderId, region: Option<&str>, id: &str) -> Option<&Image> {
        self.images
            .iter()
            .find(|i| i.provider == provider && i.id == id && region.is_none_or(|r| r == i.region))
    }

    /// Image `id` of `provider`, to change it.
    pub fn image_mut(&mut self, provider: ProviderId, id: &str) -> Option<&mut Image> {
        self.images
            .iter_mut()
            .find(|i| i.provider == provider && i.id == id)
    }

    /// Instance `id` of `provider`, if the world has it.
    pub fn instance(
        &self,
        provider: ProviderId,
        region: Option<&str>,
        id: &str,
    ) -> Option<&Instance> {
        self.instances
            .iter()
            .find(|i| i.provider == provider && i.id == id && region.is_none_or(|r| r == i.region))
    }

    /// Snapshot `id` of `provider`, if the world has it.
    pub fn snapshot(
        &self,
        provider: ProviderId,
        region: Option<&str>,
        id: &str,
    ) -> Option<&Snapshot> {
        self.snapshots
            .iter()
            .find(|s| s.provider == provider && s.id == id && region.is_none_or(|r| r == s.region))
    }

    /// Bucket `name` of `provider`, if the world has it.
    pub fn bucket(&self, provider: ProviderId, name: &str) -> Option<&Bucket> {
        self.buckets
            .iter()
            .find(|b| b.provider == provider && b.name == name)
    }

    /// The ids and names of `provider`'s resources in this world —
    /// images, instances and their disks, snapshots, buckets, roles — that
    /// a live account must supply for real (see the runner's fixtures).
    pub fn resource_names(&self, provider: ProviderId) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for image in self.images.iter().filter(|i| i.provider == provider) {
            names.insert(image.id.clone());
            names.extend(image.data_disks.iter().map(|d| d.snapshot_id.clone()));
        }
        for instance in self.instances.iter().filter(|i| i.provider == provider) {
            names.insert(instance.id.clone());
            names.extend(instance.data_disks.iter().map(|d| d.id.clone()));
        }
        names.extend(
            self.snapshots
                .iter()
                .filter(|s| s.provider == provider)
                .map(|s| s.id.clone()),
        );
        names.extend(
            self.buckets
                .iter()
                .filter(|b| b.provider == provider)
                .map(|b| b.name.clone()),
        );
        names.extend(
            self.roles
                .iter()
                .filter(|r| r.provider == provider)
                .map(|r| r.name.clone()),
        );
        names.retain(|n| !n.is_empty());
        names
    }

    /// Role `name` of `provider`, if the world has it.
    pub fn role(&self, provider: ProviderId, name: &str) -> Option<&Role> {
        self.roles
            .iter()
            .find(|r| r.provider == provider && r.name == name)
    }

    /// Export tasks of `provider` still running.
    pub fn running_exports(&self, provider: ProviderId) -> u32 {
        self.tasks
            .iter()
            .filter(|t| t.provider == provider && t.kind == "export" && t.running)
            .count() as u32
    }

    /// Export tasks of `provider` started (this week: the world keeps one week).
    pub fn exports_started(&self, provider: ProviderId) -> u32 {
        self.tasks
            .iter()
            .filter(|t| t.provider == provider && t.kind == "export")
            .count() as u32
    }

    /// How many private (custom) images `provider`'s account holds.
    pub fn private_images(&self, provider: ProviderId) -> u32 {
        self.images
            .iter()
            .filter(|i| i.provider == provider && i.owner == Owner::Private)
            .count() as u32
    }

    /// How many snapshots `provider`'s account holds.
    pub fn snapshot_count(&self, provider: ProviderId) -> u32 {
        self.snapshots
            .iter()
            .filter(|s| s.provider == provider)
            .count() as u32
    }
}
