package dev.vigil.agent.feedback;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.hypervisor.Screenshots;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.agent.FeedbackCategory;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * {@code vigil-agent feedback --vm VM "text" [--rating 1-5] [--category speed|stability|interface|other]
 * [--screenshot]}: records a user's comment about a VM. The record goes to the running agent's inbox, which spools
 * and publishes it; a screenshot is kept content-addressed under the state directory's {@code blobs/} until the agent
 * has it stored at the same key in the evidence bucket, and its key travels with the feedback.
 */
public final class FeedbackCommand {

    static final int MAX_TEXT = 4_000;
    static final String USAGE = "usage: vigil-agent feedback --vm VM \"text\" [--rating 1-5]"
            + " [--category speed|stability|interface|other] [--screenshot]";

    private FeedbackCommand() {}

    /** Parses, validates and records; returns the feedback's event id. */
    public static String run(String[] args, AgentConfig config, String agentVersion)
            throws FeedbackException, LibvirtException, IOException {
        String vm = null;
        String text = null;
        Integer rating = null;
        FeedbackCategory category = FeedbackCategory.OTHER;
        boolean screenshot = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--vm" -> vm = value(args, ++i, "--vm");
                case "--rating" -> rating = rating(value(args, ++i, "--rating"));
                case "--category" -> category = category(value(args, ++i, "--category"));
                case "--screenshot" -> screenshot = true;
                default -> {
                    if (args[i].startsWith("--") || text != null) {
                        throw new FeedbackException("unexpected argument '" + args[i] + "'\n" + USAGE);
                    }
                    text = args[i];
                }
            }
        }
        if (vm == null || vm.isBlank()) {
            throw new FeedbackException("--vm is required\n" + USAGE);
        }
        if (text == null || text.isBlank()) {
            throw new FeedbackException("the feedback text is empty\n" + USAGE);
        }
        if (text.length() > MAX_TEXT || text.indexOf('\u0000') >= 0) {
            throw new FeedbackException("the feedback text must be at most " + MAX_TEXT + " characters of text");
        }
        Connect hypervisor = new Connect(config.hypervisorUri());
        try {
            Domain domain = lookup(hypervisor, vm);
            String screenshotKey = screenshot
                    ? ObjectKeys.evidence(
                            config.tenant(),
                            config.hostId(),
                            storeScreenshot(hypervisor, domain, Agent.blobsDir(config)))
                    : null;
            Source source = Source.newBuilder()
                    .setHostId(config.hostId())
                    .setAgentId(config.agentId())
                    .setAgentVersion(agentVersion)
                    .build();
            UserFeedback feedback = UserFeedback.newBuilder()
                    .setEnvelope(Envelopes.create(
                            UserFeedback.class, UserFeedback.getClassSchema(), source, config.tenant(), Instant.now()))
                    .setVm(VmRef.newBuilder()
                            .setUuid(domain.getUUIDString())
                            .setName(domain.getName())
                            .build())
                    .setText(text)
                    .setRating(rating)
                    .setCategory(category)
                    .setScreenshotKey(screenshotKey)
                    .build();
            writeToInbox(Agent.inboxDir(config), feedback);
            return feedback.getEnvelope().getEventId();
        } finally {
            hypervisor.close();
        }
    }

    private static Domain lookup(Connect hypervisor, String vm) throws FeedbackException {
        try {
            return vm.matches("[0-9a-fA-F-]{36}")
                    ? hypervisor.domainLookupByUUIDString(vm)
                    : hypervisor.domainLookupByName(vm);
        } catch (LibvirtException e) {
            throw new FeedbackException("no VM named or with UUID '" + vm + "' on this host");
        }
    }

    /** Writes atomically (temp file, fsync, rename) so the agent never reads half a record. */
    static void writeToInbox(Path inbox, UserFeedback feedback) throws IOException {
        Files.createDirectories(inbox);
        String id = feedback.getEnvelope().getEventId();
        Path tmp = inbox.resolve(id + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(
                    java.nio.ByteBuffer.wrap(EventCodec.of(UserFeedback.class).encode(feedback)));
            channel.force(true);
        }
        Files.move(tmp, inbox.resolve(id + FeedbackInbox.SUFFIX), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Keeps the picture in {@code blobs/} by its hash until the agent stages it; returns the hash. */
    private static String storeScreenshot(Connect hypervisor, Domain domain, Path blobs)
            throws LibvirtException, IOException {
        byte[] bytes = Screenshots.capture(hypervisor, domain);
        String hash = sha256(bytes);
        Path file = FeedbackInbox.blob(blobs, hash);
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(hash + ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
        return hash;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String value(String[] args, int i, String option) throws FeedbackException {
        if (i >= args.length) {
            throw new FeedbackException(option + " needs a value\n" + USAGE);
        }
        return args[i];
    }

    private static Integer rating(String value) throws FeedbackException {
        try {
            int rating = Integer.parseInt(value);
            if (rating < 1 || rating > 5) {
                throw new NumberFormatException();
            }
            return rating;
        } catch (NumberFormatException e) {
            throw new FeedbackException("--rating must be a whole number from 1 to 5, not '" + value + "'");
        }
    }

    private static FeedbackCategory category(String value) throws FeedbackException {
        try {
            FeedbackCategory category = FeedbackCategory.valueOf(value.toUpperCase(Locale.ROOT));
            if (category == FeedbackCategory.UNKNOWN) {
                throw new IllegalArgumentException();
            }
            return category;
        } catch (IllegalArgumentException e) {
            throw new FeedbackException("--category must be speed, stability, interface or other, not '" + value + "'");
        }
    }
}
