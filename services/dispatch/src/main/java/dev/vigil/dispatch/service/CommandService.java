package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.domain.CommandState;
import dev.vigil.dispatch.messaging.Outbox;
import dev.vigil.dispatch.persistence.CommandRepository;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.PersistenceException;
import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.delivery.Role;
import dev.vigil.schemas.delivery.SigningKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Signed commands to agents. A command gets its host's next sequence and is recorded (signed) in the issuing
 * transaction, which announces it to the host's waiting agent; the agent fetches its commands in sequence order over
 * HTTPS ({@link CommandFeed}), which marks them delivered. Agents' results move a command on; commands no agent
 * acknowledged by their expiry are marked expired.
 */
@ApplicationScoped
public class CommandService {

    static final String VENDOR_TENANT = "vendor";
    private static final Logger LOG = Logger.getLogger(CommandService.class);
    private static final int MAX_ARGUMENTS = 64;
    private static final int MAX_ARGUMENT_BYTES = 16_384;

    private static final Set<CommandAction> VM_ACTIONS = Set.of(
            CommandAction.TAKE_SNAPSHOT,
            CommandAction.REVERT_TO_SNAPSHOT,
            CommandAction.RELAUNCH_FROM_SNAPSHOT,
            CommandAction.SUSPEND,
            CommandAction.SHUTDOWN);

    private final Database db;
    private final RepositoryService repository;
    private final MeterRegistry metrics;
    private final Timer acknowledgement;
    private final DispatchConfig.Commands config;
    private final Clock clock = Clock.systemUTC();

    CommandService(Database db, RepositoryService repository, MeterRegistry metrics, DispatchConfig config) {
        this.db = db;
        this.repository = repository;
        this.metrics = metrics;
        this.config = config.dispatch().commands();
        this.acknowledgement = Timer.builder("vigil.dispatch.commands.acknowledgement")
                .description("From a command's issue to its agent's acknowledgement")
                .publishPercentiles(0.5, 0.99)
                .register(metrics);
    }

    /** Checks an operator's command before anything is recorded. */
    public void check(CommandAction action, List<CommandTarget> targets, Map<String, String> arguments, Duration ttl) {
        if (action == null || action == CommandAction.UNKNOWN) {
            throw RefusedException.badRequest("Bad command", "name an action: " + List.of(CommandAction.values()));
        }
        if (targets == null || targets.isEmpty() || targets.size() > 1000) {
            throw RefusedException.badRequest("Bad command", "a command goes to 1-1,000 targets");
        }
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(config.maxTtl()) > 0) {
            throw RefusedException.unprocessable("Bad expiry", "a command expires within " + config.maxTtl());
        }
        if (arguments.size() > MAX_ARGUMENTS
                || arguments.entrySet().stream()
                        .anyMatch(e -> e.getKey() == null
                                || e.getValue() == null
                                || e.getKey().length() + e.getValue().length() > MAX_ARGUMENT_BYTES)) {
            throw RefusedException.badRequest(
                    "Bad command",
                    "at most " + MAX_ARGUMENTS + " arguments, each under " + MAX_ARGUMENT_BYTES + " bytes");
        }
        for (CommandTarget target : targets) {
            if (target == null || target.hostId() == null || target.hostId().isBlank()) {
                throw RefusedException.badRequest("Bad command", "every target names a hostId");
            }
            if (VM_ACTIONS.contains(action)
                    && (target.vmUuid() == null || target.vmUuid().isBlank())) {
                throw RefusedException.unprocessable("VM needed", action + " acts on a VM: give each target a vmUuid");
            }
        }
    }

    /**
     * Records signed commands in the caller's transaction; when it commits, the waiting agents of their hosts are
     * woken to fetch them ({@link CommandFeed}).
     */
    public List<Command> issue(
            Connection c,
            CommandAction action,
            List<CommandTarget> targets,
            Map<String, String> arguments,
            Duration ttl,
            String origin,
            UUID rolloutId,
            String issuedBy)
            throws SQLException {
        SigningKey key = repository.signers(c, Role.COMMANDS).get(0);
        Instant now = clock.instant();
        List<Command> issued = new ArrayList<>();
        for (CommandTarget target : targets) {
            long sequence = CommandRepository.nextSequence(c, target.hostId());
            UUID id = UUID.randomUUID();
            CommandBody body = CommandBody.newBuilder()
                    .setCommandId(id.toString())
                    .setTargetHostId(target.hostId())
                    .setVm(
                            target.vmUuid() == null
                                    ? null
                                    : VmRef.newBuilder()
                                            .setUuid(target.vmUuid())
                                            .setName(target.vmName() == null ? target.vmUuid() : target.vmName())
                                            .build())
                    .setAction(action)
                    .setArguments(Map.copyOf(arguments))
                    .setIssuedAt(now)
                    .setExpiresAt(now.plus(ttl))
                    .setSequence(sequence)
                    .build();
            SignedCommand signed;
            try {
                signed = CommandSignatures.sign(
                        body,
                        key.keyId(),
                        key.privateKey(),
                        Envelopes.create(
                                SignedCommand.class,
                                SignedCommand.getClassSchema(),
                                Outbox.SOURCE,
                                VENDOR_TENANT,
                                now,
                                id.toString()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("signing a command with key " + key.keyId() + " failed", e);
            }
            Command command = new Command(
                    id,
                    target.hostId(),
                    target.vmUuid(),
                    action.name(),
                    Map.copyOf(arguments),
                    sequence,
                    CommandState.ISSUED,
                    origin,
                    rolloutId,
                    issuedBy,
                    now,
                    now.plus(ttl),
                    null,
                    null,
                    null,
                    null,
                    null);
            CommandRepository.insert(
                    c,
                    command,
                    dev.vigil.schemas.EventCodec.of(SignedCommand.class).encode(signed));
            CommandRepository.announce(c, target.hostId());
            metrics.counter("vigil.dispatch.commands.issued", "action", action.name(), "origin", origin)
                    .increment();
            issued.add(command);
        }
        return issued;
    }

    /**
     * Agents' results, in one transaction and in the order given (a command's acknowledgement before its outcome).
     * Returns, for each, whether dispatch issued its command to the host that answers it.
     */
    public boolean[] record(List<CommandResult> results) {
        boolean[] issued = new boolean[results.size()];
        if (results.isEmpty()) {
            return issued;
        }
        List<UUID> ids = new ArrayList<>(results.size());
        for (CommandResult result : results) {
            ids.add(uuid(result.getCommandId()));
        }
        Instant now = clock.instant();
        db.transaction(c -> {
            Map<UUID, Command> commands = CommandRepository.lock(
                    c, ids.stream().filter(Objects::nonNull).toList());
            Map<UUID, Command> changed = new LinkedHashMap<>();
            for (int i = 0; i < results.size(); i++) {
                Command command = ids.get(i) == null ? null : commands.get(ids.get(i));
                // A host answers only its own commands: another's result for it is refused like an unknown one.
                if (command == null
                        || !command.hostId()
                                .equals(results.get(i).getEnvelope().getSource().getHostId())) {
                    continue;
                }
                issued[i] = true;
                Command after = apply(command, results.get(i), now);
                if (after != command) {
                    commands.put(command.id(), after);
                    changed.put(command.id(), after);
                }
            }
            CommandRepository.results(c, changed.values());
            return null;
        });
        return issued;
    }

    /** What a result makes of a command: itself when it changes nothing. */
    private Command apply(Command command, CommandResult result, Instant now) {
        String status = result.getStatus().name();
        CommandState next = command.state().after(status);
        metrics.counter("vigil.dispatch.commands.results", "status", status).increment();
        if (next == command.state() && next != CommandState.ACKNOWLEDGED) {
            return command;
        }
        if (next == CommandState.ACKNOWLEDGED && command.acknowledgedAt() == null) {
            acknowledgement.record(Duration.between(command.issuedAt(), now));
        }
        String refusal =
                result.getRefusal() == null ? null : result.getRefusal().name();
        if (next.isFinal()) {
            LOG.infof(
                    "command %s (%s to %s) %s: %s",
                    command.id(), command.action(), command.hostId(), next, truncate(result.getMessage()));
        }
        return command.after(next, now, refusal, truncate(result.getMessage()));
    }

    private static UUID uuid(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public Command command(UUID id) {
        Command command = db.read(c -> CommandRepository.find(c, id));
        if (command == null) {
            throw RefusedException.notFound("Unknown command", "no command " + id);
        }
        return command;
    }

    public List<Command> search(String host, String vm, String state, UUID rollout, int limit, int offset) {
        return db.read(c -> CommandRepository.search(c, host, vm, state, rollout, limit, offset));
    }

    /** Expires what no agent acknowledged in time. */
    @Scheduled(
            every = "${vigil.dispatch.commands.sweep-every}",
            delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        try {
            Instant now = clock.instant();
            int expired = db.transaction(c -> CommandRepository.expire(c, now));
            if (expired > 0) {
                metrics.counter("vigil.dispatch.commands.expired").increment(expired);
                LOG.infof("%d commands expired unacknowledged", expired);
            }
        } catch (PersistenceException e) {
            LOG.warnf("command sweep: %s", e.getMessage());
        }
    }

    private static String truncate(String text) {
        return text == null || text.length() <= 2000 ? text : text.substring(0, 2000);
    }
}
