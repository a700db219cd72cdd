package dev.vigil.problem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RequestParamsTest {

    @Test
    void readsWholeNumbersAndFallsBackWhenAbsent() {
        assertThat(RequestParams.wholeNumber("size", " 42 ", 7)).isEqualTo(42);
        assertThat(RequestParams.wholeNumber("size", null, 7)).isEqualTo(7);
        assertThat(RequestParams.wholeNumber("size", "", 7)).isEqualTo(7);
    }

    @Test
    void refusesWhatIsNoIntNamingTheParameter() {
        for (String bad : new String[] {"abc", "1.5", "2147483648", "0x10"}) {
            assertThatThrownBy(() -> RequestParams.wholeNumber("size", bad, 7))
                    .isInstanceOfSatisfying(ProblemException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.title()).isEqualTo("Bad parameter");
                        assertThat(e.detail())
                                .startsWith("size must be a whole number")
                                .contains("'" + bad + "'");
                    });
        }
    }

    @Test
    void refusesNulInTextAndKeepsOtherTextAsGiven() {
        assertThat(RequestParams.text("product", "AcmeOS")).isEqualTo("AcmeOS");
        assertThat(RequestParams.text("product", null)).isNull();
        assertThatThrownBy(() -> RequestParams.text("product", "Acme\0OS"))
                .isInstanceOf(ProblemException.class)
                .hasMessage("product must not contain a NUL character");
    }

    @Test
    void acceptsOnlyTheLongFormOfAUuid() {
        String uuid = "0B8E4A2C-5f1d-4c3e-9a7b-6d2f1e0c9b8a";
        assertThat(RequestParams.uuid("id", uuid)).isEqualTo(uuid);
        for (String bad : new String[] {"1-2-3-4-5", "no-such-vm", uuid + "\0", "", uuid.replace('0', 'g')}) {
            assertThatThrownBy(() -> RequestParams.uuid("id", bad)).isInstanceOf(ProblemException.class);
        }
        assertThatThrownBy(() -> RequestParams.uuid("id", null)).isInstanceOf(ProblemException.class);
    }

    @Test
    void echoesAtMost200CharactersWithoutControlCharacters() {
        assertThat(ProblemDto.echo("a\0b\nc")).isEqualTo("a?b?c");
        String echoed = ProblemDto.echo("x".repeat(3000));
        assertThat(echoed).startsWith("x".repeat(200) + "...").endsWith("(3000 characters)");
        assertThat(echoed.length()).isLessThan(230);
        assertThat(ProblemDto.echo(null)).isEmpty();
    }
}
