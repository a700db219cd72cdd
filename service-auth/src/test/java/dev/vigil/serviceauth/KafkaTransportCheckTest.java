package dev.vigil.serviceauth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class KafkaTransportCheckTest {

    @Test
    void tlsStartsAndPlaintextOnlyWhenAllowed() {
        Optional<String> broker = Optional.of("broker:9093");
        assertThat(KafkaTransportCheck.problem(broker, Optional.of("SSL"), false))
                .isEmpty();
        assertThat(KafkaTransportCheck.problem(broker, Optional.of("sasl_ssl"), false))
                .isEmpty();
        assertThat(KafkaTransportCheck.problem(broker, Optional.empty(), false))
                .hasValueSatisfying(message -> assertThat(message)
                        .startsWith(
                                "Kafka at broker:9093 would be used over PLAINTEXT (kafka.security.protocol is not set)")
                        .contains("KAFKA_SECURITY_PROTOCOL=SSL", "VIGIL_KAFKA_ALLOW_PLAINTEXT=true"));
        assertThat(KafkaTransportCheck.problem(broker, Optional.of("SASL_PLAINTEXT"), false))
                .hasValueSatisfying(message -> assertThat(message).contains("over SASL_PLAINTEXT:"));
        assertThat(KafkaTransportCheck.problem(broker, Optional.empty(), true)).isEmpty();
        // A service without Kafka (the console) has nothing to check.
        assertThat(KafkaTransportCheck.problem(Optional.empty(), Optional.empty(), false))
                .isEmpty();
    }
}
