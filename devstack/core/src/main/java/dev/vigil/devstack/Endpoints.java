package dev.vigil.devstack;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Where a running stack's components answer, and the credentials to use them. */
public record Endpoints(
        String kafkaBootstrapServers,
        String jdbcUrl,
        String jdbcUser,
        String s3Endpoint,
        String s3AccessKey,
        String s3SecretKey,
        List<String> buckets) {

    /** Configuration for a Quarkus service (and the agent, which reads the same {@code vigil.s3.*} keys). */
    public Map<String, String> quarkusProperties() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("kafka.bootstrap.servers", kafkaBootstrapServers);
        props.put("quarkus.datasource.jdbc.url", jdbcUrl);
        props.put("quarkus.datasource.username", jdbcUser);
        props.put("vigil.s3.endpoint", s3Endpoint);
        props.put("vigil.s3.access-key", s3AccessKey);
        props.put("vigil.s3.secret-key", s3SecretKey);
        return props;
    }
}
