package dev.vigil.agent.command;

import dev.vigil.agent.AgentMetrics;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.hypervisor.DomainWatcher;
import dev.vigil.agent.mapping.AgentEventMapper;
import dev.vigil.agent.spool.EventCapture;
import dev.vigil.agent.spool.Lane;
import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.CommandStatus;
import dev.vigil.schemas.agent.RefusalReason;
import dev.vigil.schemas.agent.SignedCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.libvirt.LibvirtException;

/**
 * Reads {@code vigil.agent.commands.v1}, runs the commands addressed to this host that verify, refuses the rest
 * with a reason, and spools {@code CommandResult}s: {@code ACCEPTED} when a command verified and starts, then its
 * outcome; a refusal alone. Offsets are committed after the results are spooled.
 *
 * <p>Commands are keyed by host id, so all of this host's commands are in one partition, the one Kafka's default
 * partitioner picks for the key: the agent assigns itself that partition alone (no group membership, no other
 * hosts' traffic beyond those that share it), skips other hosts' records by key without decoding them, and checks
 * the partition count now and then in case the topic grows.
 */
public final class CommandService implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CommandService.class.getName());
    // A fetch returns as soon as a command arrives, so long waits cost no latency, only fewer idle round trips.
    private static final Duration POLL = Duration.ofSeconds(10);
    private static final int FETCH_MAX_WAIT_MS = 10_000;
    private static final Duration PARTITIONS_RECHECK = Duration.ofMinutes(5);
    private static final Duration NO_TOPIC_RETRY = Duration.ofSeconds(10);

    private final AgentConfig config;
    private final AgentEventMapper mapper;
    private final EventCapture capture;
    private final AgentMetrics metrics;
    private final Supplier<DomainWatcher> watcher;
    private final CommandVerifier verifier;
    private final CommandExecutor executor;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Installs and updates, which download for minutes, run here rather than on the consumer's thread. */
    private static final Set<CommandAction> LONG_ACTIONS = Set.of(CommandAction.INSTALL, CommandAction.UPDATE);

    private final ExecutorService delivering = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "vigil-agent-delivery-commands");
        thread.setDaemon(true);
        return thread;
    });
    private TopicPartition assigned;
    private long assignedAt;

    private CommandService(
            AgentConfig config,
            AgentEventMapper mapper,
            EventCapture capture,
            AgentMetrics metrics,
            Supplier<DomainWatcher> watcher,
            CommandVerifier verifier,
            CommandExecutor executor) {
        this.config = config;
        this.mapper = mapper;
        this.capture = capture;
        this.metrics = metrics;
        this.watcher = watcher;
        this.verifier = verifier;
        this.executor = executor;
        Properties props = new Properties();
        props.putAll(config.kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "vigil-agent-" + config.hostId());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.agentId() + "-commands");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A new agent reads what is pending; expiry and sequence refuse anything stale.
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, FETCH_MAX_WAIT_MS);
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, "vigil-agent-commands");
        this.thread.setDaemon(true);
    }

    /** Starts when vendor keys are pinned; without keys no command can verify, so none is read (returns null). */
    public static CommandService start(
            AgentConfig config,
            AgentEventMapper mapper,
            EventCapture capture,
            AgentMetrics metrics,
            Supplier<DomainWatcher> watcher,
            IntSupplier report,
            Deliveries deliveries)
            throws IOException {
        if (config.vendorKeys().isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "no vendor keys pinned (VIGIL_AGENT_VENDOR_KEYS): commands are off");
            return null;
        }
        Map<String, PublicKey> keys = new HashMap<>();
        for (Map.Entry<String, byte[]> entry : config.vendorKeys().entrySet()) {
            try {
                keys.put(entry.getKey(), CommandSignatures.publicKey(entry.getValue()));
            } catch (GeneralSecurityException e) {
                throw new IOException(
                        "VIGIL_AGENT_VENDOR_KEYS entry " + entry.getKey() + " is not an Ed25519 public key", e);
            }
        }
        Clock clock = Clock.systemUTC();
        CommandLedger ledger = CommandLedger.open(config.stateDir().resolve("commands.ledger"));
        CommandService service = new CommandService(
                config,
                mapper,
                capture,
                metrics,
                watcher,
                new CommandVerifier(keys, config.hostId(), clock, ledger),
                new CommandExecutor(
                        clock,
                        config.stateDir().resolve("collection-policy.properties"),
                        config.stateDir().resolve("snapshots"),
                        report,
                        deliveries));
        service.thread.start();
        return service;
    }

    @Override
    public void close() {
        running.set(false);
        closed.countDown();
        consumer.wakeup();
        delivering.shutdownNow();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The partition Kafka's default partitioner gives records keyed by this host id. */
    static int partitionFor(String hostId, int partitions) {
        return Utils.toPositive(Utils.murmur2(hostId.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    private void run() {
        try {
            while (running.get()) {
                if (!assignOwnPartition()) {
                    closed.await(NO_TOPIC_RETRY.toMillis(), TimeUnit.MILLISECONDS);
                    continue;
                }
                var records = consumer.poll(POLL);
                for (ConsumerRecord<String, byte[]> record : records) {
                    if (config.hostId().equals(record.key())) {
                        handleSafely(record.value());
                    }
                }
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // Closing.
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "command consumer stopped: " + e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /**
     * Assigns this host's partition, at start and again when the recheck is due (a topic given more partitions
     * moves the host's key); false while the topic does not exist yet.
     */
    private boolean assignOwnPartition() {
        long now = System.nanoTime();
        if (assigned != null && now - assignedAt < PARTITIONS_RECHECK.toNanos()) {
            return true;
        }
        String topic = TopicCatalog.AGENT_COMMANDS.name();
        List<PartitionInfo> partitions;
        try {
            partitions = consumer.partitionsFor(topic);
        } catch (TimeoutException e) {
            // Kafka is unreachable: keep reading the partition already assigned, or try again later.
            LOG.log(System.Logger.Level.DEBUG, "cannot read the partitions of " + topic + ": " + e.getMessage());
            return assigned != null;
        }
        if (partitions == null || partitions.isEmpty()) {
            if (assigned == null) {
                LOG.log(System.Logger.Level.DEBUG, topic + " does not exist yet: commands wait for it");
            }
            return assigned != null;
        }
        TopicPartition own = new TopicPartition(topic, partitionFor(config.hostId(), partitions.size()));
        if (!own.equals(assigned)) {
            consumer.assign(List.of(own));
            LOG.log(System.Logger.Level.INFO, "reading commands for host " + config.hostId() + " from " + own);
            assigned = own;
        }
        assignedAt = now;
        return true;
    }

    /** One bad command (or a full disk) must not stop the consumer: report FAILED where possible and go on. */
    private void handleSafely(byte[] value) {
        try {
            handle(value);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "a command could not be handled: " + e);
            try {
                result(
                        "unknown",
                        CommandStatus.FAILED,
                        null,
                        "the agent could not handle the command: " + e.getMessage());
            } catch (IOException | RuntimeException again) {
                LOG.log(System.Logger.Level.ERROR, "its result could not be spooled either: " + again);
            }
        }
    }

    private void handle(byte[] value) throws IOException {
        SignedCommand command;
        try {
            command = EventCodec.of(SignedCommand.class).decode(value);
        } catch (EventDecodingException e) {
            result("unreadable", CommandStatus.REFUSED, RefusalReason.MALFORMED, "not a signed command: " + e.reason());
            return;
        }
        CommandVerifier.Verdict verdict = verifier.verify(command);
        if (verdict.body() == null) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "refused command " + verdict.commandId() + ": " + verdict.refusal() + " (" + verdict.message()
                            + ")");
            result(verdict.commandId(), CommandStatus.REFUSED, verdict.refusal(), verdict.message());
            return;
        }
        // The acknowledgement: the command verified and is now running. Long actions (an install) take minutes, and
        // the vendor should not have to wait for them to know the command arrived.
        result(
                verdict.commandId(),
                CommandStatus.ACCEPTED,
                null,
                "verified; running " + verdict.body().getAction());
        if (LONG_ACTIONS.contains(verdict.body().getAction())) {
            // Minutes of download: on their own thread, so that the commands after them (an interrupt above all)
            // are handled at once. One at a time, in the order they came.
            delivering.execute(() -> executeSafely(verdict));
        } else {
            execute(verdict);
        }
    }

    private void executeSafely(CommandVerifier.Verdict verdict) {
        try {
            execute(verdict);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "command " + verdict.commandId() + " left no result: " + e);
        }
    }

    private void execute(CommandVerifier.Verdict verdict) throws IOException {
        try {
            String done = executor.execute(watcher.get().connection(), verdict.body());
            LOG.log(
                    System.Logger.Level.INFO,
                    "command " + verdict.commandId() + " " + verdict.body().getAction() + ": " + done);
            result(verdict.commandId(), CommandStatus.SUCCEEDED, null, done);
        } catch (CommandFailedException | LibvirtException | IOException e) {
            LOG.log(System.Logger.Level.WARNING, "command " + verdict.commandId() + " failed: " + e.getMessage());
            result(verdict.commandId(), CommandStatus.FAILED, null, String.valueOf(e.getMessage()));
        }
    }

    private void result(String commandId, CommandStatus status, RefusalReason refusal, String message)
            throws IOException {
        CommandResult result = CommandResult.newBuilder()
                .setEnvelope(Envelopes.create(
                        CommandResult.class,
                        CommandResult.getClassSchema(),
                        mapper.source(),
                        mapper.tenant(),
                        java.time.Instant.now()))
                .setCommandId(commandId)
                .setStatus(status)
                .setRefusal(refusal)
                .setMessage(message)
                .setCompletedAt(java.time.Instant.now())
                .build();
        capture.capture(Lane.EVIDENCE, TopicCatalog.AGENT_COMMAND_RESULTS, commandId, result);
        metrics.command(status.name());
    }
}
