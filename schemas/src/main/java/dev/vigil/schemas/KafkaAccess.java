package dev.vigil.schemas;

import java.util.List;
import java.util.NoSuchElementException;

/**
 * Who may do what on Vigil's topics: one Kafka principal per service and one shared by agents, each with the topics it
 * reads, the topics it writes and the consumer-group prefix it owns. Brokers deny everything else. The devstack's
 * broker and the Helm chart's {@code KafkaUser}s take their ACLs from here, beside the topics in {@link TopicCatalog},
 * so a client's rights cannot drift from what the code does.
 *
 * <p>A principal is the common name of the client's certificate (brokers map {@code CN=vigil-ingestion,...} to
 * {@code User:vigil-ingestion}).
 */
public final class KafkaAccess {

    /**
     * One principal's rights.
     *
     * @param principal the certificate's common name, also the service's application name
     * @param reads topics it consumes (READ, which implies DESCRIBE)
     * @param writes topics it produces to (WRITE, which implies DESCRIBE)
     * @param groupPrefix consumer groups it may join and commit in: every group whose id starts with this; null for a
     *     principal that consumes nothing
     */
    public record Grant(String principal, List<Topic> reads, List<Topic> writes, String groupPrefix) {

        public Grant {
            reads = List.copyOf(reads);
            writes = List.copyOf(writes);
        }
    }

    /**
     * Agents: publish what they observe and read nothing. Their commands come from dispatch over HTTPS, where each
     * host gets only its own (ADR 0007).
     */
    public static final Grant AGENT = new Grant(
            "vigil-agent",
            List.of(),
            List.of(
                    TopicCatalog.AGENT_EVENTS,
                    TopicCatalog.AGENT_SAMPLES,
                    TopicCatalog.AGENT_ARTIFACTS,
                    TopicCatalog.AGENT_FEEDBACK,
                    TopicCatalog.AGENT_COMMAND_RESULTS),
            null);

    /**
     * Ingestion: reads every agent topic and the host revocations; writes crash reports and dead letters, and writes agent topics only to send
     * a dead letter back to where it came from (a replay), which it reads from the dead-letter topic.
     */
    public static final Grant INGESTION = new Grant(
            "vigil-ingestion",
            List.of(
                    TopicCatalog.AGENT_EVENTS,
                    TopicCatalog.AGENT_SAMPLES,
                    TopicCatalog.AGENT_ARTIFACTS,
                    TopicCatalog.AGENT_FEEDBACK,
                    TopicCatalog.AGENT_COMMAND_RESULTS,
                    TopicCatalog.INGESTION_DEAD_LETTER,
                    TopicCatalog.DISPATCH_HOST_REVOCATIONS),
            List.of(
                    TopicCatalog.CRASH_REPORTED,
                    TopicCatalog.INGESTION_DEAD_LETTER,
                    TopicCatalog.AGENT_EVENTS,
                    TopicCatalog.AGENT_SAMPLES,
                    TopicCatalog.AGENT_ARTIFACTS,
                    TopicCatalog.AGENT_FEEDBACK,
                    TopicCatalog.AGENT_COMMAND_RESULTS),
            "vigil-ingestion.");

    /** Crash triage: reads crash reports; writes triage results and dead letters. */
    public static final Grant CRASH_TRIAGE = new Grant(
            "vigil-crash-triage",
            List.of(TopicCatalog.CRASH_REPORTED),
            List.of(TopicCatalog.CRASH_TRIAGED, TopicCatalog.INGESTION_DEAD_LETTER),
            "vigil-crash-triage");

    /** Dispatch: reads command results and triage results (to halt rollouts); writes rollout events and revocations. */
    public static final Grant DISPATCH = new Grant(
            "vigil-dispatch",
            List.of(TopicCatalog.AGENT_COMMAND_RESULTS, TopicCatalog.CRASH_TRIAGED),
            List.of(
                    TopicCatalog.DISPATCH_ROLLOUTS,
                    TopicCatalog.DISPATCH_HOST_REVOCATIONS,
                    TopicCatalog.INGESTION_DEAD_LETTER),
            "vigil-dispatch.");

    private static final List<Grant> ALL = List.of(AGENT, INGESTION, CRASH_TRIAGE, DISPATCH);

    private KafkaAccess() {}

    /** Every grant, in a stable order. */
    public static List<Grant> all() {
        return ALL;
    }

    /** The grant of this principal. */
    public static Grant of(String principal) {
        return ALL.stream()
                .filter(g -> g.principal().equals(principal))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException("no Kafka principal named " + principal + " (known: "
                        + ALL.stream().map(Grant::principal).toList() + ")"));
    }
}
