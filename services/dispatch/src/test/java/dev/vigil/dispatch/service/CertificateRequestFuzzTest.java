package dev.vigil.dispatch.service;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * A certificate request as an agent sends it, possibly damaged or hostile: whatever the text, the enrolment CA either
 * takes a key the request proves it holds or refuses with a 400 problem ({@link RefusedException}, {@code INVALID});
 * never another exception, a hang, or a heap the JVM cannot hold. The seeds are requests of an EC and an RSA key, made with {@code openssl req}.
 */
class CertificateRequestFuzzTest {

    @FuzzTest
    void checksOrRefusesWithAReason(byte[] input) {
        String request = new String(input, StandardCharsets.UTF_8);
        try {
            if (AgentCertificates.checkedKey(request) == null) {
                throw new AssertionError("a request passed without a key");
            }
        } catch (RefusedException refused) {
            if (refused.why() != RefusedException.Why.INVALID) {
                throw new AssertionError("refused as " + refused.why() + ", not as bad input", refused);
            }
        }
    }
}
