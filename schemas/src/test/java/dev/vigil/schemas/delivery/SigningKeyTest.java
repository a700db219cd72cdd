package dev.vigil.schemas.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SigningKeyTest {

    @Test
    void readsBackWhatItWritesWithTheSameId() {
        SigningKey key = SigningKey.generate();

        SigningKey read = SigningKey.parse(key.toPem());

        assertThat(read.keyId()).isEqualTo(key.keyId()).hasSize(64);
        assertThat(read.publicKey()).isEqualTo(key.publicKey());
        assertThat(read.toString()).doesNotContain("PRIVATE");
    }

    @Test
    void refusesHalvesOfDifferentKeysAndIncompleteText() {
        String a = SigningKey.generate().toPem();
        String b = SigningKey.generate().toPem();
        String mixed =
                a.substring(0, a.indexOf("-----BEGIN PUBLIC KEY")) + b.substring(b.indexOf("-----BEGIN PUBLIC KEY"));

        assertThatThrownBy(() -> SigningKey.parse(mixed)).hasMessageContaining("not the public half");
        assertThatThrownBy(() -> SigningKey.parse(a.substring(0, a.indexOf("-----BEGIN PUBLIC KEY"))))
                .hasMessageContaining("PUBLIC KEY");
        assertThatThrownBy(() -> SigningKey.parse("hello")).isInstanceOf(IllegalArgumentException.class);
    }
}
