package dev.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ObjectKeysTest {

    private static final String SHA = "ab" + "0123456789abcdef".repeat(3) + "0123456789abcd";

    @Test
    void aHostsEvidenceLivesUnderItsOwnPrefixNamedByItsHash() {
        assertThat(ObjectKeys.evidence("acme", "host-1", SHA)).isEqualTo("hosts/acme/host-1/sha256/ab/" + SHA);
        assertThat(ObjectKeys.ownedBy(ObjectKeys.evidence("acme", "host-1", SHA), "acme", "host-1"))
                .isTrue();
    }

    @Test
    void anotherHostsOrTenantsKeyIsNotOwned() {
        String key = ObjectKeys.evidence("acme", "host-1", SHA);
        assertThat(ObjectKeys.ownedBy(key, "acme", "host-2")).isFalse();
        assertThat(ObjectKeys.ownedBy(key, "other", "host-1")).isFalse();
        assertThat(ObjectKeys.ownedBy(key, "acme", "host")).isFalse();
        // The content-addressed keys of before, shared by every host, belong to none.
        assertThat(ObjectKeys.ownedBy("sha256/ab/" + SHA, "acme", "host-1")).isFalse();
    }

    @Test
    void aKeyThatIsNotAHashUnderThePrefixIsNotOwned() {
        String prefix = ObjectKeys.hostPrefix("acme", "host-1");
        assertThat(ObjectKeys.ownedBy(prefix + "sha256/cd/" + SHA, "acme", "host-1"))
                .as("the fan-out directory must be the hash's first two digits")
                .isFalse();
        assertThat(ObjectKeys.ownedBy(prefix + "sha256/ab/" + SHA + "/../x", "acme", "host-1"))
                .isFalse();
        assertThat(ObjectKeys.ownedBy(prefix + "other/ab/" + SHA, "acme", "host-1"))
                .isFalse();
        assertThat(ObjectKeys.ownedBy(null, "acme", "host-1")).isFalse();
    }

    @Test
    void aSlashInAnIdCannotReachIntoAnotherPrefix() {
        // Host "a/b" of tenant "t" must not own the objects of host "b" of tenant "t/a".
        assertThat(ObjectKeys.hostPrefix("t", "a/b")).isNotEqualTo(ObjectKeys.hostPrefix("t/a", "b"));
        assertThat(ObjectKeys.ownedBy(ObjectKeys.evidence("t/a", "b", SHA), "t", "a/b"))
                .isFalse();
    }

    @Test
    void aHashThatIsNotOneIsRefusedWithABoundedEcho() {
        assertThatThrownBy(() -> ObjectKeys.evidence("acme", "host-1", "x".repeat(5000)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(5000 characters)")
                .message()
                .hasSizeLessThan(200);
        assertThatThrownBy(() -> ObjectKeys.evidence("acme", "host-1", SHA.toUpperCase()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
