package dev.vigil.ingestion.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.ingestion.AgentEventFixtures;
import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.persistence.SampleRepository;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.RecordSeals.Seal;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.BlockSample;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.agent.NetSample;
import dev.vigil.schemas.agent.VcpuSample;
import dev.vigil.schemas.agent.VmSample;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecordValidatorTest {

    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
    private final RecordValidator validator =
            new RecordValidator(config(Set.of("acme")), Clock.fixed(NOW, ZoneOffset.UTC), null);
    private final String vm = UUID.randomUUID().toString();

    @Test
    void acceptsAWellFormedEvent() throws Exception {
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW.minusSeconds(3));

        assertThat(validator.validate(AgentEventFixtures.encode(event), Seal.NONE))
                .isEqualTo(event);
    }

    @Test
    void rejectsOversizedBeforeDecoding() {
        assertThatThrownBy(() -> validator.validate(new byte[2049], Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.OVERSIZED));
    }

    @Test
    void rejectsJsonAsMalformed() {
        byte[] json = "{\"eventId\":\"x\"}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> validator.validate(json, Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED));
    }

    @Test
    void rejectsABlankHostAsMissingField() {
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW);
        event.getEnvelope().getSource().put("hostId", " ");

        assertThatThrownBy(() -> validator.validate(AgentEventFixtures.encode(event), Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.MISSING_FIELD))
                .hasMessageContaining("envelope.source.hostId");
    }

    @ParameterizedTest
    // The last two are UUIDs to java.util.UUID.fromString, but not to PostgreSQL's uuid type.
    @ValueSource(strings = {"42", "0f8fad5b-d9cb-469f-a165-70867728950", "1-2-3-4-5", "0-0-0-0-000000000000"})
    void rejectsANonUuidEventIdAsMalformed(String eventId) {
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW);
        event.getEnvelope().put("eventId", eventId);

        assertThatThrownBy(() -> validator.validate(AgentEventFixtures.encode(event), Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED))
                .hasMessageContaining("envelope.eventId is not a UUID");
    }

    @Test
    void acceptsAnEventIdInUpperCase() throws Exception {
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW);
        event.getEnvelope().put("eventId", UUID.randomUUID().toString().toUpperCase(java.util.Locale.ROOT));

        assertThat(validator.validate(AgentEventFixtures.encode(event), Seal.NONE))
                .isEqualTo(event);
    }

    @Test
    void rejectsTimestampsTooOldOrTooFarAhead() {
        AgentEvent old =
                AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW.minus(Duration.ofDays(31)));
        AgentEvent ahead =
                AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW.plus(Duration.ofMinutes(6)));

        assertThatThrownBy(() -> validator.validate(AgentEventFixtures.encode(old), Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.TIMESTAMP_OUT_OF_RANGE));
        assertThatThrownBy(() -> validator.validate(AgentEventFixtures.encode(ahead), Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.TIMESTAMP_OUT_OF_RANGE));
    }

    @Test
    void rejectsATenantThisDeploymentDoesNotServe() {
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW);
        event.getEnvelope().put("tenant", "globex");

        assertThatThrownBy(() -> validator.validate(AgentEventFixtures.encode(event), Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.UNKNOWN_TENANT));
    }

    @Test
    void acceptsOnlyRecordsSealedByTheHostTheirEnvelopeNames() throws Exception {
        byte[] secret = "a deployment's record-key secret".getBytes(StandardCharsets.US_ASCII);
        RecordValidator enforcing = new RecordValidator(
                config(Set.of("acme")), Clock.fixed(NOW, ZoneOffset.UTC), new RecordSeals.Verifier(Map.of(1, secret)));
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW);
        byte[] value = AgentEventFixtures.encode(event);
        String host = event.getEnvelope().getSource().getHostId();

        assertThat(enforcing.validate(value, seal(secret, host, value))).isEqualTo(event);
        assertThatThrownBy(() -> enforcing.validate(value, seal(secret, "another-host", value)))
                .satisfies(e -> reason(e, DeadLetterReason.IDENTITY_MISMATCH))
                .hasMessageContaining("not that of host " + host + " of tenant acme");
        assertThatThrownBy(() -> enforcing.validate(value, Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.IDENTITY_MISMATCH))
                .hasMessageContaining("not sealed");
    }

    @Test
    void aRevokedHostsRecordsAreRefusedEvenWhenSealedRight() throws Exception {
        byte[] secret = "a deployment's record-key secret".getBytes(StandardCharsets.US_ASCII);
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW);
        byte[] value = AgentEventFixtures.encode(event);
        String host = event.getEnvelope().getSource().getHostId();
        RecordValidator validator = new RecordValidator(
                config(Set.of("acme")),
                Clock.fixed(NOW, ZoneOffset.UTC),
                new RecordSeals.Verifier(Map.of(1, secret)),
                RevokedHosts.of(new RevokedHosts.Revoked(
                        "acme", host, NOW.minusSeconds(60), "ada@vendor.example", "stolen from a car")));

        assertThatThrownBy(() -> validator.validate(value, seal(secret, host, value)))
                .satisfies(e -> reason(e, DeadLetterReason.HOST_REVOKED))
                .hasMessageContaining("host " + host + " of tenant acme was revoked at " + NOW.minusSeconds(60))
                .hasMessageContaining("ada@vendor.example")
                .hasMessageContaining("stolen from a car");
        // The same host id in another tenant is another host.
        RecordValidator otherTenant = new RecordValidator(
                config(Set.of("acme")),
                Clock.fixed(NOW, ZoneOffset.UTC),
                new RecordSeals.Verifier(Map.of(1, secret)),
                RevokedHosts.of(new RevokedHosts.Revoked("globex", host, NOW, "ada@vendor.example", "stolen")));
        assertThat(otherTenant.validate(value, seal(secret, host, value))).isEqualTo(event);
    }

    @Test
    void aRecordMayNameOnlyItsOwnHostsObjects() throws Exception {
        RecordValidator enforcing = new RecordValidator(
                config(Set.of("acme")),
                Clock.fixed(NOW, ZoneOffset.UTC),
                new RecordSeals.Verifier(Map.of(1, new byte[32])));
        var envelope = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", NOW)
                .getEnvelope();
        String host = envelope.getSource().getHostId();
        String sha = "ab".repeat(32);

        enforcing.requireOwnObject(envelope, ObjectKeys.evidence("acme", host, sha));
        enforcing.requireOwnObject(envelope, null);
        for (String key : new String[] {
            ObjectKeys.evidence("acme", "another-host", sha),
            ObjectKeys.evidence("other-tenant", host, sha),
            "sha256/ab/" + sha,
            ObjectKeys.hostPrefix("acme", host) + "../another-host/sha256/ab/" + sha
        }) {
            assertThatThrownBy(() -> enforcing.requireOwnObject(envelope, key))
                    .as(key)
                    .satisfies(e -> reason(e, DeadLetterReason.IDENTITY_MISMATCH))
                    .hasMessageContaining("a host may only point at its own objects");
        }
        // Without identity enforcement, nothing is checked (vigil.ingestion.identity.enforce=false).
        validator.requireOwnObject(envelope, ObjectKeys.evidence("acme", "another-host", sha));
    }

    private static Seal seal(byte[] secret, String host, byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        RecordSeals.seal(RecordSeals.hostKey(secret, 1, "acme", host), value, headers);
        return Seal.of(headers);
    }

    @Test
    void rejectsTextWithNulThatPostgresCannotStore() {
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOO\u0000TED", NOW);

        assertThatThrownBy(() -> validator.validate(AgentEventFixtures.encode(event), Seal.NONE))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED))
                .hasMessageContaining("NUL");
    }

    @Test
    void findsNulDeepInsideSamplesAndSkipsPartsThatHoldNoText() throws Exception {
        VmSample clean = VmSample.newBuilder()
                .setVm(VmRef.newBuilder().setUuid(vm).setName("web-1").build())
                .setState("RUNNING")
                .setCpuTimeNanos(1L)
                .setVcpus(List.of(
                        VcpuSample.newBuilder().setIndex(0).setTimeNanos(5).build()))
                .setBlocks(List.of())
                .setNets(List.of(NetSample.newBuilder()
                        .setDevice("vnet0")
                        .setRxBytes(1)
                        .setTxBytes(1)
                        .setRxDrops(0)
                        .setTxDrops(0)
                        .build()))
                .build();
        VmSample hostile = VmSample.newBuilder(clean)
                .setNets(List.of(NetSample.newBuilder(clean.getNets().get(0))
                        .setDevice("vnet\u00000")
                        .build()))
                .build();

        assertThat(validator.validate(samples(clean), Seal.NONE, AgentSamples.class, s -> Map.of()))
                .isNotNull();
        assertThatThrownBy(() -> validator.validate(samples(hostile), Seal.NONE, AgentSamples.class, s -> Map.of()))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED));
        assertThat(RecordValidator.canHoldText(VcpuSample.getClassSchema())).isFalse();
        assertThat(RecordValidator.canHoldText(NetSample.getClassSchema())).isTrue();
    }

    @Test
    void theSamplesProjectionRefusesNulInWhatIngestionStoresAndKeepsItsCounters() throws Exception {
        VmSample clean = VmSample.newBuilder()
                .setVm(VmRef.newBuilder().setUuid(vm).setName("web-1").build())
                .setState("RUNNING")
                .setCpuTimeNanos(7L)
                .setVcpus(List.of(
                        VcpuSample.newBuilder().setIndex(0).setTimeNanos(5).build()))
                .setBlocks(List.of(block("vda", 100, 10), block("vdb", 20, 2)))
                .setNets(List.of(net("vnet0", 1000, 300), net("vnet1", 1, 2)))
                .setBalloonCurrentKib(4096L)
                .build();
        VmSample hostile = VmSample.newBuilder(clean).setState("RUN\u0000NING").build();

        var stored = SampleProjection.of(validator.validate(samples(clean), Seal.NONE, SampleProjection.PROJECTION));

        assertThat(stored.hostId()).isEqualTo("h");
        assertThat(stored.sampledAt()).isEqualTo(NOW);
        assertThat(stored.vms())
                .containsExactly(new SampleRepository.VmRow(vm, "RUNNING", 7L, 120, 12, 1001, 302, 4096L));
        assertThatThrownBy(() -> validator.validate(samples(hostile), Seal.NONE, SampleProjection.PROJECTION))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED));
    }

    @Test
    void theSamplesProjectionRefusesAVmIdThatIsNotAUuidAndKeepsIdsInLowerCase() throws Exception {
        VmSample upper = bareVm(vm.toUpperCase(java.util.Locale.ROOT));
        VmSample notUuid = bareVm("web-1; DROP TABLE vm_sample");

        var stored = SampleProjection.of(validator.validate(samples(upper), Seal.NONE, SampleProjection.PROJECTION));
        var refused = validator.validate(samples(notUuid), Seal.NONE, SampleProjection.PROJECTION);

        assertThat(stored.vms()).extracting(SampleRepository.VmRow::uuid).containsExactly(vm);
        assertThatThrownBy(() -> SampleProjection.of(refused))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED))
                .hasMessage("vms[0].vm.uuid is not a UUID: \"web-1; DROP TABLE vm_sample\"");
    }

    /**
     * The UUID check agrees with the pattern it implements on random text: mostly well-formed ids with a character
     * or two swapped for a near miss (a letter past f, a dash, non-ASCII characters whose low bits match a hex
     * digit's, such as U+0130 and U+0660), and some shorter or longer.
     */
    @Test
    void theUuidCheckAgreesWithItsPatternOnRandomText() {
        java.util.regex.Pattern form = java.util.regex.Pattern.compile(
                "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
        String nearMisses = "gGzZ-_ \u0000\u00b0\u00c1\u0130\u0660\uff10\u0430";
        java.util.Random random = new java.util.Random(42);
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder text = new StringBuilder(UUID.randomUUID().toString());
            if (random.nextBoolean()) {
                text.setCharAt(random.nextInt(36), nearMisses.charAt(random.nextInt(nearMisses.length())));
            }
            if (random.nextInt(10) == 0) {
                text.setLength(random.nextInt(40));
            }
            if (random.nextInt(10) == 0) {
                text.append('0');
            }
            if (random.nextInt(4) == 0) {
                text = new StringBuilder(text.toString().toUpperCase(java.util.Locale.ROOT));
            }
            String candidate = text.toString();
            assertThat(RecordValidator.isUuid(candidate))
                    .as(candidate)
                    .isEqualTo(form.matcher(candidate).matches());
            accepted += form.matcher(candidate).matches() ? 1 : 0;
        }
        // Both answers were exercised.
        assertThat(accepted).isBetween(5_000, 15_000);
    }

    /** Both ways a repeat is found: pairwise in a small record, through a map in a large one. */
    @ParameterizedTest
    @ValueSource(ints = {2, 10, 32, 33})
    void theSamplesProjectionRefusesARecordThatSamplesAVmTwice(int vms) throws Exception {
        List<VmSample> distinct = new java.util.ArrayList<>();
        for (int i = 0; i < vms; i++) {
            distinct.add(bareVm(UUID.randomUUID().toString()));
        }
        List<VmSample> repeated = new java.util.ArrayList<>(distinct);
        // The last VM repeats an earlier one, in upper case: the same VM once ids are lower-cased.
        String twice = distinct.get((vms - 1) / 2).getVm().getUuid().toString();
        repeated.set(vms - 1, bareVm(twice.toUpperCase(java.util.Locale.ROOT)));

        var stored = SampleProjection.of(validator.validate(samples(distinct), Seal.NONE, SampleProjection.PROJECTION));
        var refused = validator.validate(samples(repeated), Seal.NONE, SampleProjection.PROJECTION);

        assertThat(stored.vms()).hasSize(vms);
        assertThatThrownBy(() -> SampleProjection.of(refused))
                .satisfies(e -> reason(e, DeadLetterReason.MALFORMED))
                .hasMessage("vms[" + (vms - 1) + "].vm.uuid repeats vms[" + ((vms - 1) / 2) + "]: \"" + twice + "\"");
    }

    private static VmSample bareVm(String uuid) {
        return VmSample.newBuilder()
                .setVm(VmRef.newBuilder().setUuid(uuid).setName("vm").build())
                .setState("RUNNING")
                .setCpuTimeNanos(null)
                .setVcpus(List.of())
                .setBlocks(List.of())
                .setNets(List.of())
                .setBalloonCurrentKib(null)
                .build();
    }

    private static BlockSample block(String device, long read, long written) {
        return BlockSample.newBuilder()
                .setDevice(device)
                .setReadBytes(read)
                .setWriteBytes(written)
                .setReadRequests(1)
                .setWriteRequests(1)
                .setAllocationBytes(null)
                .setCapacityBytes(null)
                .build();
    }

    private static NetSample net(String device, long rx, long tx) {
        return NetSample.newBuilder()
                .setDevice(device)
                .setRxBytes(rx)
                .setTxBytes(tx)
                .setRxDrops(0)
                .setTxDrops(0)
                .build();
    }

    private static byte[] samples(VmSample vm) {
        return samples(List.of(vm));
    }

    private static byte[] samples(List<VmSample> vms) {
        Source source = Source.newBuilder()
                .setHostId("h")
                .setAgentId("a")
                .setAgentVersion("1")
                .build();
        return EventCodec.of(AgentSamples.class)
                .encode(AgentSamples.newBuilder()
                        .setEnvelope(Envelopes.create(
                                AgentSamples.class, AgentSamples.getClassSchema(), source, "acme", NOW))
                        .setSampledAt(NOW)
                        .setPeriodMillis(5000)
                        .setVms(vms)
                        .setHost(null)
                        .build());
    }

    private static void reason(Throwable e, DeadLetterReason expected) {
        assertThat(e).isInstanceOf(ValidationException.class);
        assertThat(((ValidationException) e).reason()).isEqualTo(expected);
    }

    /** Only the limits the validator reads; anything else it asks for fails the test. */
    private static IngestionConfig config(Set<String> tenants) {
        return (IngestionConfig) Proxy.newProxyInstance(
                IngestionConfig.class.getClassLoader(),
                new Class<?>[] {IngestionConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "maxRecordBytes" -> 2048;
                    case "maxEventAge" -> Duration.ofDays(30);
                    case "maxClockSkew" -> Duration.ofMinutes(5);
                    case "tenants" -> tenants;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
