//! The judgements the comparison rests on, and nothing else: which APIs
//! perform the same operation, and for each topic of the comparison, where
//! in each spec the answer is (a parameter, the refusals caused by some
//! states of the provider's world, or a note). The values themselves are
//! always read from the specs.
//!
//! A reference that no longer resolves (a renamed parameter, a reworded
//! note) shows up in the report as such, and the test
//! `every_reference_of_the_topic_table_resolves` fails.

use crate::spec::raw::Precondition::{self, *};

/// APIs of different providers that do the same thing.
pub(super) struct OperationGroup {
    pub title: &'static str,
    /// `provider/api`, in column order.
    pub apis: &'static [&'static str],
}

pub(super) const OPERATIONS: &[OperationGroup] = &[
    OperationGroup {
        title: "Export an image to object storage",
        apis: &[
            "jdcloud/exportImage",
            "aliyun/ExportImage",
            "tencent/ExportImages",
        ],
    },
    OperationGroup {
        title: "Import an image from object storage",
        apis: &["jdcloud/importImage"],
    },
    OperationGroup {
        title: "Make an image from an instance",
        apis: &["jdcloud/createImage"],
    },
];

/// Where a cell of the comparison takes its value from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    /// A request parameter (template path), described in full with its
    /// documented errors and the rules that read it.
    Param(&'static str),
    /// How many values of this parameter one call takes.
    PerCall(&'static str),
    /// The spec's summary or note that contains this text: what the
    /// document says in prose where no parameter states it.
    Note(&'static str),
    /// The API's documented errors for these states of the world.
    Refusals(&'static [Precondition]),
    /// Method, path or action, version, protocol and endpoint.
    Call,
    /// The provider's signing schemes.
    Signing,
    DryRun,
    Idempotency,
    RateLimit,
    /// The success answer's fields and their types.
    ResultFields,
    /// HTTP statuses, message kinds and fault codes of the error answers.
    ErrorAnswers,
    /// Refusals no other topic of the table shows.
    OtherRefusals,
}

pub(super) struct Topic {
    pub title: &'static str,
    /// Sources every API's cell shows.
    pub each: &'static [Source],
    /// Sources particular APIs' cells show as well.
    pub per_api: &'static [(&'static str, &'static [Source])],
}

impl Topic {
    /// The API's own sources first (its parameter reads before the
    /// refusals about it), then those of every API.
    pub fn sources_for(&self, api: &str) -> Vec<Source> {
        let mut out: Vec<Source> = Vec::new();
        for (id, sources) in self.per_api {
            if *id == api {
                out.extend_from_slice(sources);
            }
        }
        out.extend_from_slice(self.each);
        out
    }
}

use Source::*;

/// Rows of each operation's comparison, in order. A row appears in an
/// operation's table when some API of it has something to show.
pub(super) const TOPICS: &[Topic] = &[
    Topic {
        title: "Call",
        each: &[Call],
        per_api: &[],
    },
    Topic {
        title: "Signing",
        each: &[Signing],
        per_api: &[],
    },
    Topic {
        title: "Region",
        each: &[],
        per_api: &[
            ("jdcloud/exportImage", &[Param("regionId")]),
            ("aliyun/ExportImage", &[Param("RegionId")]),
            ("tencent/ExportImages", &[Param("Region")]),
            ("jdcloud/importImage", &[Param("regionId")]),
            ("jdcloud/createImage", &[Param("regionId")]),
        ],
    },
    Topic {
        title: "Source",
        each: &[],
        per_api: &[
            ("jdcloud/exportImage", &[Param("imageId")]),
            ("aliyun/ExportImage", &[Param("ImageId")]),
            (
                "tencent/ExportImages",
                &[Param("ImageIds"), Param("SnapshotIds")],
            ),
            ("jdcloud/importImage", &[Param("imageUrl")]),
            ("jdcloud/createImage", &[Param("instanceId")]),
        ],
    },
    Topic {
        title: "Batch export",
        each: &[],
        per_api: &[
            ("jdcloud/exportImage", &[PerCall("imageId")]),
            ("aliyun/ExportImage", &[PerCall("ImageId")]),
            (
                "tencent/ExportImages",
                &[PerCall("ImageIds"), PerCall("SnapshotIds")],
            ),
        ],
    },
    Topic {
        title: "Image file format",
        each: &[],
        per_api: &[
            ("jdcloud/exportImage", &[Note("QCOW2")]),
            ("aliyun/ExportImage", &[Param("ImageFormat")]),
            ("tencent/ExportImages", &[Param("ExportFormat")]),
            ("jdcloud/importImage", &[Param("diskFormat")]),
        ],
    },
    Topic {
        title: "Storage target",
        each: &[Refusals(&[
            BucketNotFound,
            BucketNotWritable,
            BucketAppIdMismatch,
            BucketUnusable,
        ])],
        per_api: &[
            ("jdcloud/exportImage", &[Param("ossUrl")]),
            ("aliyun/ExportImage", &[Param("OSSBucket")]),
            ("tencent/ExportImages", &[Param("BucketName")]),
        ],
    },
    Topic {
        title: "Object name prefix",
        each: &[],
        per_api: &[
            ("jdcloud/exportImage", &[Param("ossPrefix")]),
            ("aliyun/ExportImage", &[Param("OSSPrefix")]),
            ("tencent/ExportImages", &[Param("FileNamePrefixList")]),
        ],
    },
    Topic {
        title: "Role",
        each: &[Refusals(&[RoleMissing])],
        per_api: &[
            ("jdcloud/exportImage", &[Param("roleName")]),
            ("aliyun/ExportImage", &[Param("RoleName")]),
            ("tencent/ExportImages", &[Param("RoleName")]),
        ],
    },
    Topic {
        title: "Disks included",
        each: &[Refusals(&[
            ImageDataDiskExportUnsupported,
            ImageDataDisksOverLimit,
        ])],
        per_api: &[
            (
                "jdcloud/exportImage",
                &[Note("Only the system-disk image is exported")],
            ),
            ("tencent/ExportImages", &[Param("OnlyExportRootDisk")]),
            (
                "jdcloud/importImage",
                &[Note("Only system-disk images can be imported")],
            ),
            (
                "jdcloud/createImage",
                &[
                    Param("dataDisks"),
                    Note("By default the image includes snapshots"),
                ],
            ),
        ],
    },
    Topic {
        title: "Windows images",
        each: &[Refusals(&[ImageWindows, ImageWindowsNotImported])],
        per_api: &[],
    },
    Topic {
        title: "Red Hat images",
        each: &[Refusals(&[ImageRedhat])],
        per_api: &[],
    },
    Topic {
        title: "Market images",
        each: &[Refusals(&[
            ImageFromMarket,
            ImageDerivedFromMarket,
            ImagePublicOrMarket,
        ])],
        per_api: &[],
    },
    Topic {
        title: "Public images, or not the caller's own",
        each: &[Refusals(&[ImagePublicOrMarket, ImageNotPrivate])],
        per_api: &[],
    },
    Topic {
        title: "Shared images",
        each: &[Refusals(&[ImageShared])],
        per_api: &[],
    },
    Topic {
        title: "Encrypted images",
        each: &[Refusals(&[ImageEncrypted])],
        per_api: &[],
    },
    Topic {
        title: "Size limits",
        each: &[Refusals(&[
            ImageTooLarge,
            ImageDataDisksOverLimit,
            DiskSizeBelowOriginal,
        ])],
        per_api: &[
            ("jdcloud/importImage", &[Param("systemDiskSizeGB")]),
            (
                "jdcloud/createImage",
                &[Param("dataDisks[].cloudDiskSpec.diskSizeGB")],
            ),
        ],
    },
    Topic {
        title: "Quotas and concurrency",
        each: &[Refusals(&[
            ExportConcurrentQuotaExceeded,
            ExportWeeklyQuotaExceeded,
            ImageExporting,
            ImageQuotaExceeded,
            SnapshotQuotaExceeded,
        ])],
        per_api: &[],
    },
    Topic {
        title: "Not found",
        each: &[Refusals(&[
            RegionNotFound,
            ImageNotFound,
            SnapshotNotFound,
            InstanceNotFound,
        ])],
        per_api: &[],
    },
    Topic {
        title: "Region and account restrictions",
        each: &[Refusals(&[
            RegionExportUnsupported,
            ImageOsUnavailableInRegion,
            AccountNotWhitelisted,
            ImageLicenseNotExportable,
        ])],
        per_api: &[],
    },
    Topic {
        title: "Dry run",
        each: &[DryRun],
        per_api: &[],
    },
    Topic {
        title: "Idempotency",
        each: &[Idempotency],
        per_api: &[],
    },
    Topic {
        title: "Rate limit",
        each: &[RateLimit],
        per_api: &[],
    },
    Topic {
        title: "Result fields",
        each: &[ResultFields],
        per_api: &[],
    },
    Topic {
        title: "Error answers",
        each: &[ErrorAnswers],
        per_api: &[],
    },
    Topic {
        title: "Other refusals",
        each: &[OtherRefusals],
        per_api: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_of_the_topic_table_resolves() {
        let specs = crate::Specs::embedded().expect("the shipped specs load");
        let mut problems = Vec::new();
        for group in OPERATIONS {
            for id in group.apis {
                if specs.api(id).is_none() {
                    problems.push(format!("operation \"{}\": no API {id}", group.title));
                }
            }
        }
        for api in specs.apis() {
            if !OPERATIONS
                .iter()
                .any(|g| g.apis.contains(&api.id().as_str()))
            {
                problems.push(format!("{} is in no operation", api.id()));
            }
        }
        for topic in TOPICS {
            for (id, sources) in topic.per_api {
                let Some(api) = specs.api(id) else {
                    problems.push(format!("topic \"{}\": no API {id}", topic.title));
                    continue;
                };
                for source in *sources {
                    match source {
                        Param(path) | PerCall(path) if api.param(path).is_none() => {
                            problems.push(format!("topic \"{}\": {id} has no {path}", topic.title))
                        }
                        Note(text)
                            if !std::iter::once(&api.raw.summary)
                                .chain(&api.raw.notes)
                                .any(|n| n.contains(text)) =>
                        {
                            problems.push(format!(
                                "topic \"{}\": {id} has no note containing \"{text}\"",
                                topic.title
                            ))
                        }
                        _ => {}
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
