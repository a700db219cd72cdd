package dev.vigil.problem;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

class ProblemMapperTest {

    private final ProblemMapper mapper = new ProblemMapper();

    @Test
    void answersAnUnexpectedFailureWithA500ProblemThatCarriesNoneOfIt() {
        Response answer =
                mapper.unexpected(new IllegalStateException("row 42 of table internal_ledger at db.internal"), null);
        assertThat(answer.getStatus()).isEqualTo(500);
        assertThat(answer.getMediaType().toString()).isEqualTo("application/problem+json");
        ProblemDto body = (ProblemDto) answer.getEntity();
        assertThat(body.title()).isEqualTo("Internal error");
        assertThat(body.status()).isEqualTo(500);
        assertThat(body.toString()).doesNotContain("internal_ledger", "IllegalStateException", "at ");
    }

    @Test
    void keepsTheAllowHeaderOfARefusedMethod() {
        Response answer = mapper.framework(new NotAllowedException("GET", new String[] {"HEAD"}), null, null);
        assertThat(answer.getStatus()).isEqualTo(405);
        assertThat(answer.getHeaderString("Allow")).contains("GET");
        assertThat(((ProblemDto) answer.getEntity()).title()).isEqualTo("Method Not Allowed");
    }

    @Test
    void cutsADetailThatRunsLong() {
        Response answer =
                ProblemMapper.problem(400, "Bad rules", "y".repeat(5000), null).build();
        assertThat(((ProblemDto) answer.getEntity()).detail()).hasSize(ProblemMapper.MAX_DETAIL + 3);
    }
}
