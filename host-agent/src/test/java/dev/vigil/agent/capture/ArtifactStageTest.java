package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactStageTest {

    @TempDir
    Path dir;

    @Test
    void committedArtifactsSurviveARestartAndUnfinishedOnesAreCleanedUp() throws Exception {
        ArtifactStage stage = new ArtifactStage(dir, 1 << 20);
        Path work = stage.newWorkDir("incident-1");
        Path blob = Files.writeString(work.resolve("screen.png"), "png bytes");
        StagedArtifact artifact = artifact("SCREENSHOT");
        stage.commit(artifact, blob);
        // A capture that died between its blob and its ticket, and one still in progress.
        Files.writeString(dir.resolve("incident-1").resolve("memory_dump.blob"), "half a dump");
        Files.writeString(stage.newWorkDir("incident-2").resolve("x"), "in progress");

        ArtifactStage restarted = new ArtifactStage(dir, 1 << 20);
        assertThat(restarted.pending()).containsExactly(artifact);
        assertThat(Files.readString(restarted.blob(artifact))).isEqualTo("png bytes");
        assertThat(dir.resolve("incident-1").resolve("memory_dump.blob")).doesNotExist();
        assertThat(restarted.bytes())
                .isEqualTo("png bytes".length() + Files.size(dir.resolve("incident-1/screenshot.json")));

        restarted.remove(artifact);
        assertThat(restarted.pending()).isEmpty();
        assertThat(dir.resolve("incident-1")).doesNotExist();
    }

    @Test
    void aCapturesIntentOutlivesARestartUntilItIsCleared() throws Exception {
        ArtifactStage stage = new ArtifactStage(dir, 1 << 20);
        byte[] trigger = {1, 2, 3};
        stage.recordIntent(new ArtifactStage.Intent("incident-1", 1, "2026-12-07T12:00:00Z", trigger, false));
        stage.recordIntent(new ArtifactStage.Intent("incident-2", 1, "2026-12-07T12:00:01Z", trigger, false));
        stage.recordIntent(new ArtifactStage.Intent("incident-1", 2, "2026-12-07T12:00:00Z", trigger, true));
        Files.writeString(dir.resolve(".pending/incident-3.json"), "{ torn");
        Files.writeString(dir.resolve(".pending/incident-4.json.tmp"), "{ half written");

        ArtifactStage restarted = new ArtifactStage(dir, 1 << 20);
        List<ArtifactStage.Intent> intents = restarted.intents();
        assertThat(intents)
                .extracting(ArtifactStage.Intent::incidentId)
                .containsExactlyInAnyOrder("incident-1", "incident-2");
        assertThat(intents)
                .filteredOn(i -> i.incidentId().equals("incident-1"))
                .singleElement()
                .satisfies(i -> {
                    assertThat(i.attempt()).isEqualTo(2);
                    assertThat(i.paused()).isTrue();
                    assertThat(i.trigger()).containsExactly(1, 2, 3);
                });
        // A torn intent is set aside for the operator, not read as an incident's evidence.
        assertThat(dir.resolve(".pending/incident-3.json.unreadable")).exists();
        assertThat(dir.resolve(".pending/incident-4.json.tmp")).doesNotExist();
        assertThat(restarted.pending()).isEmpty();

        restarted.clearIntent("incident-1");
        assertThat(restarted.intents())
                .extracting(ArtifactStage.Intent::incidentId)
                .containsExactly("incident-2");
    }

    @Test
    void aTicketWhoseFileIsGoneIsSetAsideAndNoLongerPending() throws Exception {
        ArtifactStage stage = new ArtifactStage(dir, 1 << 20);
        StagedArtifact screenshot = artifact("SCREENSHOT");
        StagedArtifact console = artifact("CONSOLE_TEXT");
        Path work = stage.newWorkDir("incident-1");
        stage.commit(screenshot, Files.writeString(work.resolve("screen.png"), "png bytes"));
        stage.commit(console, Files.writeString(work.resolve("console.txt"), "login:"));
        Files.delete(stage.blob(screenshot));

        assertThat(stage.staged(screenshot)).isFalse();
        assertThat(stage.staged(console)).isTrue();
        stage.setAside(screenshot);
        assertThat(stage.pending()).containsExactly(console);
        assertThat(dir.resolve("incident-1/screenshot.json.orphaned")).exists();
    }

    @Test
    void aTicketStagedByAnEarlierAgentIsAnIncidentsEvidence() throws Exception {
        Files.createDirectories(dir.resolve("incident-1"));
        Files.writeString(dir.resolve("incident-1/console_text.blob"), "login:");
        Files.writeString(dir.resolve("incident-1/console_text.json"), """
                {"incidentId":"incident-1","kind":"CONSOLE_TEXT","format":"text/plain","partial":false,
                 "capturePlan":["CONSOLE_TEXT"],"vmUuid":"vm-1","vmName":"vm","product":null,"release":null,
                 "capturedAtMillis":1700000000000}
                """);

        assertThat(new ArtifactStage(dir, 1 << 20).pending())
                .singleElement()
                .extracting(StagedArtifact::announcedBy)
                .isEqualTo(StagedArtifact.Announcement.MANIFEST);
    }

    private static StagedArtifact artifact(String kind) {
        return new StagedArtifact(
                "incident-1",
                kind,
                "png",
                false,
                List.of(kind),
                "vm-1",
                "vm",
                "AcmeOS",
                "1.0",
                1_700_000_000_000L,
                StagedArtifact.Announcement.MANIFEST);
    }
}
