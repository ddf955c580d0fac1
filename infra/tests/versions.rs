//! The changelog names the catalog as it is: change a template, a tier, the prices or the usage
//! defaults, and this fails until `infra/catalog.toml` has a new version on top with the new digest.

use infra::{Catalog, Sources};

#[test]
fn the_newest_version_names_the_catalog_as_it_is() {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let newest = catalog.versions.first().expect("catalog.toml names at least one version");
    assert_eq!(
        newest.digest, catalog.digest,
        "the catalog changed since version {}: add a version on top of infra/catalog.toml with digest = \"{}\" \
         and a line for each change",
        newest.version, catalog.digest
    );
    assert_eq!(catalog.version(), newest.version);
}

#[test]
fn a_digest_no_version_names_reads_as_unversioned_and_the_changelog_is_not_part_of_it() {
    let catalog = Catalog::embedded().expect("catalog");
    let edited = Sources::embedded().with_template(infra::Phase::Network, {
        let (_, text) = &Sources::embedded().templates[0];
        format!("{text}\n# an edit\n")
    });
    let edited = Catalog::from_sources(edited).expect("edited catalog");
    assert_ne!(edited.digest, catalog.digest, "a template edit changes the digest");
    assert_eq!(edited.version(), format!("unversioned-{}", &edited.digest[..8]));
    assert_eq!(edited.version_name(&catalog.digest), catalog.version(), "older digests keep their names");

    let mut relabelled = Sources::embedded();
    relabelled.changelog.1.push_str("\n# a comment in the changelog\n");
    assert_eq!(Catalog::from_sources(relabelled).expect("catalog").digest, catalog.digest);
}

#[test]
fn a_malformed_changelog_is_refused_naming_the_entry() {
    for (text, expected) in [
        ("[[versions]]\nversion = \"1\"\ndate = \"d\"\ndigest = \"abc\"\nchanges = [\"x\"]\n", "versions[0]"),
        ("[[versions]]\nversion = \"1\"\ndate = \"d\"\ndigest = \"{d}\"\nchanges = []\n", "versions[0]"),
        ("versions = 3\n", "(toml)"),
    ] {
        let mut sources = Sources::embedded();
        sources.changelog.1 = text.replace("{d}", &"a".repeat(64));
        let error = Catalog::from_sources(sources).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("catalog.toml") && error.contains(expected), "{text}: {error}");
    }
}
