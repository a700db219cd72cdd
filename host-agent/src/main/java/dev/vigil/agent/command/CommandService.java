package dev.vigil.agent.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.agent.AgentMetrics;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.DispatchConnection;
import dev.vigil.agent.delivery.Enrolment;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.libvirt.LibvirtException;

/**
 * Fetches this host's commands from dispatch over HTTPS ({@code GET /api/v1/agent/commands}, a long poll with the
 * host token enrolment gave it), runs those that verify, refuses the rest with a reason, and spools
 * {@code CommandResult}s: {@code ACCEPTED} when a command verified and starts, then its outcome; a refusal alone.
 *
 * <p>Dispatch answers only this host's commands, in sequence order, and a request that finds none waits there until
 * one is issued, so a command arrives as soon as it is issued without the agent asking often. The agent keeps the
 * sequence of the last command it handled ({@code commands.cursor}), written after the results are spooled: a
 * restarted agent asks from there, and anything fetched twice is refused as a replay by the ledger. Dispatch could
 * withhold a command but never forge one: every command is checked against the vendor's pinned keys.
 */
public final class CommandService implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CommandService.class.getName());
    /** How long a request waits at dispatch for a command: below dispatch's longest wait and proxies' idle limits. */
    static final Duration LONG_POLL = Duration.ofSeconds(25);
    /** How long to wait before asking again after dispatch refused or could not be reached. */
    private static final Duration RETRY = Duration.ofSeconds(10);

    private static final Duration NOT_ENROLLED_RETRY = Duration.ofSeconds(30);

    private final AgentConfig config;
    private final AgentEventMapper mapper;
    private final EventCapture capture;
    private final AgentMetrics metrics;
    private final Supplier<DomainWatcher> watcher;
    private final CommandVerifier verifier;
    private final CommandExecutor executor;
    private final DispatchConnection dispatch;
    private final Path cursorFile;
    private final Thread thread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Installs and updates, which download for minutes, run here rather than on the fetching thread. */
    private static final Set<CommandAction> LONG_ACTIONS = Set.of(CommandAction.INSTALL, CommandAction.UPDATE);

    private final ExecutorService delivering = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "vigil-agent-delivery-commands");
        thread.setDaemon(true);
        return thread;
    });
    private String lastTrouble;

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
        this.dispatch = new DispatchConnection(config.dispatchUrl(), null, Duration.ofSeconds(2));
        this.cursorFile = config.stateDir().resolve("commands.cursor");
        this.thread = new Thread(this::run, "vigil-agent-commands");
        this.thread.setDaemon(true);
    }

    /**
     * Starts when vendor keys are pinned and dispatch's address is set; without keys no command can verify, and
     * without dispatch none can arrive, so none is asked for (returns null).
     */
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
        if (config.dispatchUrl() == null) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "no dispatch address (VIGIL_AGENT_DISPATCH_URL): commands are off, since they come from there");
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
        thread.interrupt();
        delivering.shutdownNow();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            long cursor = readCursor();
            while (running.get()) {
                Duration pause = Duration.ZERO;
                try {
                    cursor = fetchAndHandle(cursor);
                } catch (DeliveryException e) {
                    if (!running.get()) {
                        // Closing interrupted the request.
                        return;
                    }
                    pause = e.kind() == DeliveryException.Kind.NOT_CONFIGURED ? NOT_ENROLLED_RETRY : RETRY;
                    trouble(e.getMessage());
                }
                if (!pause.isZero()) {
                    closed.await(pause.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            // Closing.
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "the command fetcher stopped: " + e);
        }
    }

    /** One long poll: handles what came and returns the new cursor. */
    private long fetchAndHandle(long cursor) throws DeliveryException, IOException {
        String token = Enrolment.load(config.stateDir()).hostToken();
        DispatchConnection.Answer answer = dispatch.withHostToken(token)
                .get("/api/v1/agent/commands?after=" + cursor + "&wait=" + LONG_POLL.toSeconds());
        if (answer.status() != 200) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED, "dispatch refused this host's commands: " + answer.problem());
        }
        if (lastTrouble != null) {
            LOG.log(System.Logger.Level.INFO, "fetching commands from dispatch again");
            lastTrouble = null;
        }
        long next = cursor;
        for (JsonNode command : answer.json().path("commands")) {
            byte[] signed;
            try {
                signed = Base64.getDecoder().decode(command.path("signed").asText());
            } catch (IllegalArgumentException e) {
                signed = new byte[0];
            }
            handleSafely(signed);
            next = Math.max(next, command.path("sequence").asLong(next));
        }
        if (next != cursor) {
            writeCursor(next);
        }
        return next;
    }

    /** Logs a problem once, not at every retry. */
    private void trouble(String message) {
        if (!message.equals(lastTrouble)) {
            LOG.log(System.Logger.Level.WARNING, "commands wait: " + message);
            lastTrouble = message;
        }
    }

    private long readCursor() throws IOException {
        if (!Files.exists(cursorFile)) {
            return 0;
        }
        String text = Files.readString(cursorFile, StandardCharsets.UTF_8).strip();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            // A torn or foreign file: asking from the start is safe, the ledger refuses what already ran.
            LOG.log(System.Logger.Level.WARNING, cursorFile + " holds no sequence ('" + text + "'): asking from 0");
            return 0;
        }
    }

    private void writeCursor(long cursor) throws IOException {
        Path next = cursorFile.resolveSibling(cursorFile.getFileName() + ".next");
        Files.writeString(next, Long.toString(cursor), StandardCharsets.UTF_8);
        Files.move(next, cursorFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** One bad command (or a full disk) must not stop the fetcher: report FAILED where possible and go on. */
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
