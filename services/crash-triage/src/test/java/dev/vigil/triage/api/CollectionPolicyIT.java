package dev.vigil.triage.api;

import static dev.vigil.triage.api.AnalystApi.detail;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CollectionPolicyReason;
import dev.vigil.schemas.crash.CollectionPolicyRequest;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.DumpLevel;
import dev.vigil.schemas.crash.IncidentTrigger;
import dev.vigil.schemas.crash.TriageKind;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import dev.vigil.triage.outbox.Outbox;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Progressive collection on the devstack: a new bucket asks its hosts for full memory dumps, asks for none once it
 * has five (the default {@code vigil.triage.collection.full-dumps}), and admins override it; each change is one
 * {@code COLLECTION_POLICY} record on {@code vigil.crash.triaged.v1}.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class CollectionPolicyIT {

    @Inject
    AgroalDataSource db;

    @Inject
    Outbox outbox;

    @Test
    void aBucketAsksForFullDumpsUntilItHasFiveThenForNoneAndAnAdminOverridesIt() throws Exception {
        String tag = "c" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String console = LinuxConsoleParserTest.GPF.replace("acme", tag);
        String release = "rel-" + UUID.randomUUID();
        ArtifactRef text = CrashFixtures.console(console);

        CrashReported first = report(release, "host-a", IncidentTrigger.CRASH, text, fullDump());
        CrashFixtures.send(first);
        JsonPath page = AnalystApi.awaitTop(release, p -> p.getList("items").size() == 1);
        String id = page.getString("items[0].id");
        JsonPath created = detail(id);
        assertThat(created.getMap("collectionPolicy"))
                .containsEntry("dump", "full")
                .containsEntry("mode", "auto")
                .containsEntry("reason", "BELOW_FULL_DUMP_TARGET")
                .containsEntry("sequence", 1)
                .containsEntry("fullDumps", 1)
                .containsEntry("fullDumpTarget", 5);

        // Reports without a full dump do not count: none, a kdump (the kernel's format), an unverified ELF core.
        List<CrashReported> more = new ArrayList<>();
        more.add(report(release, "host-b", IncidentTrigger.WATCHDOG, text));
        more.add(report(
                release,
                "host-b",
                IncidentTrigger.CRASH,
                text,
                CrashFixtures.store(blob(), ArtifactKind.MEMORY_DUMP, "kdump-compressed")));
        more.add(report(release, "host-c", IncidentTrigger.CRASH, text, corrupt(fullDump())));
        for (int i = 0; i < 4; i++) {
            more.add(report(release, "host-" + i, IncidentTrigger.CRASH, text, fullDump()));
        }
        more.add(first); // redelivered: its dump counts once
        CrashFixtures.send(more.toArray(CrashReported[]::new));
        JsonPath reached = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> detail(id), d -> d.getInt("reports") == 8);
        assertThat(reached.getMap("collectionPolicy"))
                .containsEntry("dump", "none")
                .containsEntry("mode", "auto")
                .containsEntry("reason", "FULL_DUMP_TARGET_REACHED")
                .containsEntry("sequence", 2)
                .containsEntry("fullDumps", 5);

        // A sixth full dump changes nothing: the bucket already asks for none.
        CrashFixtures.send(report(release, "host-z", IncidentTrigger.CRASH, text, fullDump()));
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> detail(id).getInt("collectionPolicy.fullDumps") == 6);

        List<CollectionPolicyRequest> requests = requests(id, 2);
        assertThat(requests).hasSize(2);
        CollectionPolicyRequest full = requests.get(0);
        assertThat(full.getDump()).isEqualTo(DumpLevel.FULL);
        assertThat(full.getReason()).isEqualTo(CollectionPolicyReason.BELOW_FULL_DUMP_TARGET);
        assertThat(full.getSequence()).isEqualTo(1);
        assertThat(full.getHostIds()).containsExactly("host-a");
        assertThat(full.getVmUuids()).containsExactly(first.getVm().getUuid());
        assertThat(full.getTriggers()).containsExactly("crash");
        assertThat(full.getFullDumps()).isEqualTo(1);
        assertThat(full.getFullDumpTarget()).isEqualTo(5);
        assertThat(full.getScopeTruncated()).isFalse();
        CollectionPolicyRequest none = requests.get(1);
        assertThat(none.getDump()).isEqualTo(DumpLevel.NONE);
        assertThat(none.getReason()).isEqualTo(CollectionPolicyReason.FULL_DUMP_TARGET_REACHED);
        assertThat(none.getSequence()).isEqualTo(2);
        assertThat(none.getFullDumps()).isEqualTo(5);
        assertThat(none.getHostIds())
                .contains("host-a", "host-0", "host-1", "host-2", "host-3")
                .isSubsetOf("host-a", "host-b", "host-c", "host-0", "host-1", "host-2", "host-3", "host-z");
        assertThat(none.getTriggers()).contains("crash").isSubsetOf("crash", "watchdog");

        // An admin asks for the kernel's dumps: one request; asking again changes nothing.
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("dump", "kernel"))
                .put("/api/v1/buckets/" + id + "/collection-policy")
                .then()
                .statusCode(200)
                .body("dump", equalTo("kernel"))
                .body("mode", equalTo("override"))
                .body("reason", equalTo("ADMIN_OVERRIDE"))
                .body("sequence", equalTo(3))
                .body("setBy", equalTo("ada@vendor.example"));
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("dump", "KERNEL"))
                .put("/api/v1/buckets/" + id + "/collection-policy")
                .then()
                .statusCode(200)
                .body("sequence", equalTo(3));
        // While overridden, full dumps do not move the policy.
        CrashFixtures.send(report(release, "host-y", IncidentTrigger.CRASH, text, fullDump()));
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> detail(id).getInt("collectionPolicy.fullDumps") == 7);
        assertThat(detail(id).getString("collectionPolicy.dump")).isEqualTo("kernel");

        // Handed back to the count: seven full dumps, so none.
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("dump", "auto"))
                .put("/api/v1/buckets/" + id + "/collection-policy")
                .then()
                .statusCode(200)
                .body("dump", equalTo("none"))
                .body("mode", equalTo("auto"))
                .body("sequence", equalTo(4));

        List<CollectionPolicyRequest> all = requests(id, 4);
        assertThat(all).extracting(CollectionPolicyRequest::getSequence).containsExactly(1L, 2L, 3L, 4L);
        CollectionPolicyRequest override = all.get(2);
        assertThat(override.getDump()).isEqualTo(DumpLevel.KERNEL);
        assertThat(override.getReason()).isEqualTo(CollectionPolicyReason.ADMIN_OVERRIDE);
        assertThat(override.getRequestedBy()).isEqualTo("ada@vendor.example");
        assertThat(all.get(3).getDump()).isEqualTo(DumpLevel.NONE);
    }

    @Test
    void onlyAdminsSetAPolicyAndOnlyToAKnownOne() throws Exception {
        String tag = "d" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        CrashFixtures.send(report(
                release,
                "host-a",
                IncidentTrigger.CRASH,
                CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag))));
        String id = AnalystApi.awaitTop(release, p -> p.getList("items").size() == 1)
                .getString("items[0].id");
        String path = "/api/v1/buckets/" + id + "/collection-policy";

        Tokens.analyst()
                .contentType("application/json")
                .body(Map.of("dump", "full"))
                .put(path)
                .then()
                .statusCode(403);
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("dump", "everything"))
                .put(path)
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad collection policy"));
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("dump", "none"))
                .put("/api/v1/buckets/" + UUID.randomUUID() + "/collection-policy")
                .then()
                .statusCode(404);
        assertThat(detail(id).getMap("collectionPolicy"))
                .containsEntry("dump", "full")
                .containsEntry("sequence", 1)
                .containsEntry("fullDumps", 0);
    }

    @Test
    void aMergedBucketStopsAskingForDumpsAndAnUnmergedOneFollowsItsOwnCountAgain() throws Exception {
        String[] buckets = twoBuckets("g");
        String keep = buckets[0];
        String dup = buckets[1];
        assertThat(requests(dup, 1))
                .extracting(CollectionPolicyRequest::getDump)
                .containsExactly(DumpLevel.FULL);

        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("into", keep, "reason", "same bug"))
                .post("/api/v1/buckets/" + dup + "/merge")
                .then()
                .statusCode(200);

        List<CollectionPolicyRequest> merged = requests(dup, 2);
        assertThat(merged).extracting(CollectionPolicyRequest::getDump).containsExactly(DumpLevel.FULL, DumpLevel.NONE);
        assertThat(merged.get(1).getRequestedBy()).isEqualTo("ada@vendor.example");
        assertThat(detail(dup).getMap("collectionPolicy")).containsEntry("dump", "none");

        Tokens.admin().post("/api/v1/buckets/" + dup + "/unmerge").then().statusCode(200);

        assertThat(requests(dup, 3))
                .extracting(CollectionPolicyRequest::getDump)
                .containsExactly(DumpLevel.FULL, DumpLevel.NONE, DumpLevel.FULL);
        assertThat(detail(dup).getMap("collectionPolicy"))
                .containsEntry("dump", "full")
                .containsEntry("mode", "auto");
    }

    /**
     * A merge or a policy change whose transaction fails at commit announces nothing: its request is staged in the
     * outbox by that transaction, so it is rolled back with it. A deferred trigger makes the commit fail.
     */
    @Test
    void aMergeOrPolicyChangeThatDoesNotCommitAnnouncesNothing() throws Exception {
        String refuser = "refused-at-commit@vendor.example";
        try (Connection c = db.getConnection();
                Statement s = c.createStatement()) {
            s.execute("CREATE OR REPLACE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$");
            s.execute("DROP TRIGGER IF EXISTS refuse_at_commit ON collection_policy");
            s.execute("CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON collection_policy"
                    + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.set_by = '" + refuser + "')"
                    + " EXECUTE FUNCTION refuse_at_commit()");
        }
        String[] buckets = twoBuckets("o");
        String keep = buckets[0];
        String dup = buckets[1];
        assertThat(requests(dup, 1))
                .extracting(CollectionPolicyRequest::getDump)
                .containsExactly(DumpLevel.FULL);

        Tokens.asAdmin(refuser)
                .contentType("application/json")
                .body(Map.of("into", keep, "reason", "same bug"))
                .post("/api/v1/buckets/" + dup + "/merge")
                .then()
                .statusCode(greaterThanOrEqualTo(500));
        Tokens.asAdmin(refuser)
                .contentType("application/json")
                .body(Map.of("dump", "none"))
                .put("/api/v1/buckets/" + dup + "/collection-policy")
                .then()
                .statusCode(greaterThanOrEqualTo(500));
        // A change that commits goes out after both refusals; nothing of theirs went before it.
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("dump", "kernel"))
                .put("/api/v1/buckets/" + dup + "/collection-policy")
                .then()
                .statusCode(200);

        List<CollectionPolicyRequest> out = requests(dup, 2);
        assertThat(out).extracting(CollectionPolicyRequest::getDump).containsExactly(DumpLevel.FULL, DumpLevel.KERNEL);
        assertThat(out).extracting(CollectionPolicyRequest::getRequestedBy).doesNotContain(refuser);
        assertThat(detail(dup).getString("mergedInto")).isNull();
        assertThat(detail(dup).getMap("collectionPolicy")).containsEntry("dump", "kernel");
        await().atMost(Duration.ofSeconds(10)).until(() -> outbox.waiting() == 0);
    }

    /** Two new buckets of one new release, from two hosts: the ids of the one to keep and of its duplicate. */
    private static String[] twoBuckets(String prefix) throws Exception {
        String tag = prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        CrashFixtures.send(
                report(
                        release,
                        "host-a",
                        IncidentTrigger.CRASH,
                        CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "keep"))),
                report(
                        release,
                        "host-b",
                        IncidentTrigger.CRASH,
                        CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "dup"))));
        JsonPath page = AnalystApi.awaitTop(release, p -> p.getList("items").size() == 2);
        return new String[] {
            page.getString("items.find { it.title.endsWith('" + tag + "keep_list_del') }.id"),
            page.getString("items.find { it.title.endsWith('" + tag + "dup_list_del') }.id")
        };
    }

    private static CrashReported report(
            String release, String host, IncidentTrigger trigger, ArtifactRef... artifacts) {
        return CrashFixtures.report(
                release, "AcmeOS", Instant.now(), UUID.randomUUID().toString(), host, trigger, List.of(artifacts));
    }

    /** A (tiny) ELF core as the agent stores a dump=full capture. */
    private static ArtifactRef fullDump() throws Exception {
        return CrashFixtures.store(blob(), ArtifactKind.MEMORY_DUMP, "elf");
    }

    private static ArtifactRef corrupt(ArtifactRef ref) {
        return ArtifactRef.newBuilder()
                .setKind(ref.getKind())
                .setObjectKey(ref.getObjectKey())
                .setSha256(ref.getSha256())
                .setSizeBytes(ref.getSizeBytes())
                .setFormat(ref.getFormat())
                .setStatus(dev.vigil.schemas.crash.ArtifactStatus.CORRUPT)
                .build();
    }

    private static byte[] blob() {
        return ("\u007fELF dump " + UUID.randomUUID()).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The bucket's collection requests, in order, once at least {@code count} are out and a while has passed. */
    private static List<CollectionPolicyRequest> requests(String bucket, int count) {
        return CrashFixtures.triaged(
                        bucket,
                        found -> found.stream()
                                        .filter(t -> t.getKind() == TriageKind.COLLECTION_POLICY)
                                        .count()
                                >= count,
                        Duration.ofSeconds(2))
                .stream()
                .filter(t -> t.getKind() == TriageKind.COLLECTION_POLICY)
                .map(CrashTriaged::getCollectionPolicy)
                .sorted(Comparator.comparingLong(CollectionPolicyRequest::getSequence))
                .toList();
    }
}
