package dev.vigil.triage.api;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

@QuarkusTest
@io.quarkus.test.common.QuarkusTestResource(dev.vigil.devstack.DevstackTestResource.class)
@io.quarkus.test.common.QuarkusTestResource(JwtKeys.class)
class SignatureResourceIT {

    @Test
    void consoleTextGetsItsFactsTitleAndKeys() {
        Tokens.analyst()
                .contentType("text/plain")
                .queryParam("release", "6.1-it")
                .body(LinuxConsoleParserTest.SYSRQ_PANIC)
                .post("/api/v1/signatures")
                .then()
                .statusCode(200)
                .body("evidence", equalTo("linux-console"))
                .body("title", equalTo("kernel panic: sysrq triggered crash"))
                .body("facts.crashClass", equalTo("panic"))
                .body("facts.release", equalTo("6.1.0-56-amd64"))
                .body("keys.symbolic", startsWith("s3-"))
                .body("keys.instant", startsWith("i3-"))
                .body("frames[0]", equalTo("sysrq_handle_crash"))
                .body("rulesVersion", equalTo(3))
                .body("corrupted", nullValue());
    }

    @Test
    void aCorruptedReportSaysWhyAndIsTitledByItsKind() {
        Tokens.analyst()
                .contentType("text/plain")
                .body("""
                        ------------[ cut here ]------------
                        WARNING: CPU: 1 PID: 77 at kernel/workqueue.c:3031 __flush_work+0x5c2/0x700
                        CPU: 1 PID: 77 Comm: kworker/1:2 Not tainted 6.4.0 #1
                        Call Trace:
                         <TASK>
                        """)
                .post("/api/v1/signatures")
                .then()
                .statusCode(200)
                .body("title", equalTo("WARNING in corrupted"))
                .body("corrupted", startsWith("truncated:"))
                .body("symbolic", equalTo("warning|corrupted"))
                .body("facts.reportedFunction", equalTo("__flush_work"));
    }

    @Test
    void aWindowsDumpHeaderGetsItsBugcheck() {
        ByteBuffer header = ByteBuffer.allocate(0x2000).order(ByteOrder.LITTLE_ENDIAN);
        header.put("PAGEDU64".getBytes());
        header.putInt(0x34, 2);
        header.putInt(0x38, 0xD1);
        header.putLong(0x40, 0x28L);
        Tokens.analyst()
                .contentType("application/octet-stream")
                .body(header.array())
                .post("/api/v1/signatures")
                .then()
                .statusCode(200)
                .body("evidence", equalTo("windows-dump-header"))
                .body("title", equalTo("BUGCHECK 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL"))
                .body("facts.processors", equalTo(2))
                .body("facts.parameters[0]", equalTo(40));
    }

    @Test
    void theHeadOfAKdumpFromTheCaptureGuestGetsItsKernelAndSite() throws Exception {
        byte[] head;
        try (var in = getClass().getResourceAsStream("/evidence/kdump-head-6.1.bin")) {
            head = in.readAllBytes();
        }
        Tokens.analyst()
                .contentType("application/octet-stream")
                .body(head)
                .post("/api/v1/signatures")
                .then()
                .statusCode(200)
                .body("evidence", equalTo("linux-vmcore"))
                .body("facts.osRelease", equalTo("6.1.0-56-amd64"))
                .body("facts.cpus", equalTo(1))
                .body("title", startsWith("Linux crash dump (6.1.0-56-amd64) at 0xffffffffc0"));
    }

    @Test
    void evidenceWithoutACrashOrTooLargeGetsAProblemThatSaysWhy() {
        Tokens.analyst()
                .contentType("text/plain")
                .body("[    0.000000] Linux version 6.1.0\nall is well\n")
                .post("/api/v1/signatures")
                .then()
                .statusCode(400)
                .body("title", equalTo("Unrecognized evidence"))
                .body("detail", containsString("no kernel report"));
        Tokens.analyst()
                .contentType("application/octet-stream")
                .body(new byte[] {'M', 'Z', 0, 0})
                .post("/api/v1/signatures")
                .then()
                .statusCode(400)
                .body("detail", containsString("PAGEDU64"));
        Tokens.analyst()
                .contentType("application/octet-stream")
                .body("makedumpfile\0\0\0\0".getBytes())
                .post("/api/v1/signatures")
                .then()
                .statusCode(400)
                .body("detail", containsString("makedumpfile -R"));
        Tokens.analyst()
                .contentType("text/plain")
                .body(new byte[(4 << 20) + 1])
                .post("/api/v1/signatures")
                .then()
                .statusCode(413)
                .body("title", equalTo("Evidence too large"));
    }
}
