package dev.vigil.console;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.FormData;
import com.microsoft.playwright.options.RequestOptions;
import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.EnrolCommand;
import dev.vigil.agent.feedback.FeedbackCommand;
import dev.vigil.cli.CliException;
import dev.vigil.cli.DispatchClient;
import dev.vigil.cli.ReleaseUpload;
import dev.vigil.console.web.CrashPages;
import dev.vigil.console.web.PastePage;
import dev.vigil.console.web.ReleasePages;
import dev.vigil.console.web.VmPages;
import dev.vigil.devstack.AgentFleet;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.DispatchEnrolment;
import dev.vigil.devstack.Domains;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.devstack.HypervisorAssumptions;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.PrintStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * The console in a real browser (Debian's Chromium driven by Playwright) against real services: a Linux guest under
 * QEMU panics, the host agent captures its evidence, ingestion and crash triage file it; an analyst signs in at
 * Keycloak, finds the bucket among the top crashes, reads the report's console text and screenshot, is refused a
 * merge, follows the VM's timeline and sees the screenshot its user attached to feedback; an admin merges another
 * bucket into it. Pages are saved as pictures under
 * {@code target/console-screenshots}.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(value = ConsoleStack.class, restrictToAnnotatedClass = true)
class ConsoleBrowserIT {

    static final String TITLE = "kernel panic: sysrq triggered crash";
    /** The guest's product, as its domain's metadata names it, and a domain template for its releases. */
    static final String PRODUCT = "TinyLinux";

    static final String TEMPLATE = """
            <domain type='test'>
              <name>{{vm.name}}</name>
              <uuid>{{vm.uuid}}</uuid>
              <memory unit='MiB'>256</memory>
              <devices><disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda'/></disk></devices>
            </domain>
            """;
    static final Path PICTURES = Path.of("target/console-screenshots");

    @TestHTTPResource("/")
    URL console;

    @Test
    void anAnalystFindsARealCrashAndAnAdminMergesIntoIt() throws Exception {
        HypervisorAssumptions.assumeReady();
        Endpoints endpoints = Devstack.shared().endpoints();
        Path work = Files.createTempDirectory("vigil-console-guest-");
        GuestDomain guest = new GuestDomain("console", work);
        guest.createDisks();
        Connect hypervisor = new Connect(GuestDomain.URI);
        Domain domain = null;
        // A second bucket to merge: a crash of another product's VM, known only from the hypervisor's event.
        AgentFleet other =
                new AgentFleet("acme", "OtherOS", "2.0", 1).start(Instant.now().minusSeconds(60));
        other.crash(1, Instant.now().minusSeconds(30));
        // The vendor rolls the guest's release out in stages, replacing the one its beta channel offers.
        String rollout = startRollout(work);
        String hostId = "console-" + UUID.randomUUID();
        AgentConfig agentConfig = AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR",
                work.resolve("agent").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_HYPERVISOR_URI",
                GuestDomain.URI,
                "VIGIL_AGENT_HOST_ID",
                hostId,
                "VIGIL_AGENT_TENANT",
                "acme",
                "VIGIL_AGENT_VENDOR_KEYS",
                ConsoleStack.dispatchKeys.agentVendorKeys(),
                // Enrolled with dispatch below: commands, the record key and evidence links come from there, and
                // the evidence is encrypted with the key crash triage holds.
                "VIGIL_AGENT_DISPATCH_URL",
                ConsoleStack.dispatchUrl,
                "VIGIL_AGENT_EVIDENCE_UPLOAD",
                "links",
                "VIGIL_AGENT_ARTIFACT_ENCRYPTION_KEY",
                ConsoleStack.evidenceKey));
        try (Deliveries deliveries = new Deliveries(
                agentConfig,
                new PrintStream(PrintStream.nullOutputStream()),
                Duration.ofSeconds(1),
                Clock.systemUTC())) {
            EnrolCommand.enrol(
                    DispatchEnrolment.token(
                            ConsoleStack.dispatchUrl, hostProgram(), "Console Host", "console.host@example.com"),
                    agentConfig,
                    new PrintStream(PrintStream.nullOutputStream()),
                    "test",
                    Clock.systemUTC(),
                    deliveries);
        }
        try (Agent agent = new Agent(agentConfig);
                Playwright playwright = Playwright.create();
                Browser browser = playwright.chromium().launch(chromium())) {
            agent.start();
            domain = hypervisor.domainDefineXML(
                    guest.xml("vigil.scenario=panic vigil.delay=1", guest.overlayDisk(), ""));
            domain.create();
            String vmUuid = domain.getUUIDString();
            String base = console.toString().replaceAll("/$", "");

            // An analyst signs in at Keycloak and lands on the top crashes; the bucket appears once the evidence is in.
            BrowserContext analystSession = browser.newContext(viewport());
            Page page = analystSession.newPage();
            page.navigate(base + "/");
            signIn(page, "analyst");
            assertThat(page.locator("h1")).hasText("Top crashes");
            // The page is server-rendered: it shows the bucket on the first reload after triage files it.
            await().atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofSeconds(2))
                    .until(() -> {
                        page.reload();
                        return page.locator("#buckets a", new Page.LocatorOptions().setHasText(TITLE))
                                        .count()
                                > 0;
                    });
            assertThat(page.locator("#buckets")).containsText("OtherOS");
            assertThat(page.locator("#buckets svg.spark").first()).isVisible();
            assertThat(page.locator(".chart[data-drawn]")).containsText(TITLE); // the chart's legend, drawn
            picture(page, "top-crashes");
            // Dark, by the switch in the bar (remembered by the browser): the page and the chart change colours.
            page.click("#theme");
            assertThat(page.evaluate("getComputedStyle(document.body).backgroundColor"))
                    .isEqualTo("rgb(13, 17, 23)");
            assertThat(page.locator(".chart[data-drawn=dark]")).containsText(TITLE); // drawn again, in dark
            picture(page, "top-crashes-dark");
            page.reload();
            assertThat(page.evaluate("document.documentElement.dataset.theme")).isEqualTo("dark");
            page.click("#theme");
            assertThat(page.evaluate("getComputedStyle(document.body).backgroundColor"))
                    .isEqualTo("rgb(255, 255, 255)");

            // The bucket: its title, frames and reports; the analyst may not merge.
            page.locator("#buckets a", new Page.LocatorOptions().setHasText(TITLE))
                    .click();
            assertThat(page.locator("#bucket-title")).hasText(TITLE);
            String bucketUrl = page.url();
            assertThat(page.locator("#reports-table tbody tr")).not().hasCount(0);
            assertThat(page.locator("#merge-needs-admin")).isVisible();
            assertThat(page.locator(".frames")).containsText("sysrq");
            assertThat(page.locator("#collection-policy")).hasCount(0); // an admin's form
            page.fill("#add-link input[name=url]", "https://bugs.example.com/4242");
            page.fill("#add-link input[name=title]", "sysrq crash tracked");
            page.locator("#add-link button").click();
            assertThat(page.locator("#links a")).hasText("sysrq crash tracked");
            assertThat(page.locator("#links")).containsText("ana@vendor.example");
            picture(page, "bucket");
            APIResponse refused = page.request()
                    .post(
                            bucketUrl + "/merge",
                            RequestOptions.create()
                                    .setForm(FormData.create()
                                            .set("into", UUID.randomUUID().toString())));
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.text()).contains("Not allowed");

            // The report's evidence: the console text as the guest printed it, and its screen.
            page.locator("#reports-table tr", new Page.LocatorOptions().setHasText("6.1-it"))
                    .first()
                    .locator("a.open-report")
                    .click();
            assertThat(page.locator("#console-text")).containsText("Kernel panic - not syncing: sysrq triggered crash");
            assertThat(page.locator("#screenshot")).isVisible();
            // Visible before it has loaded: wait until the browser is done with it (loaded or failed), then look.
            page.waitForFunction("() => document.querySelector('#screenshot').complete");
            Object width = page.evalOnSelector("#screenshot", "img => img.naturalWidth");
            assertThat(((Number) width).intValue())
                    .as("the screenshot loaded from the object store")
                    .isPositive();
            assertThat(page.locator("a.download[data-kind=MEMORY_DUMP]")).hasCount(1);
            // The agent encrypted its evidence: the console serves it as crash triage decrypts it.
            assertThat(page.locator(".artifacts")).containsText("decrypted by crash triage");
            String consoleText =
                    page.locator("a.download[data-kind=CONSOLE_TEXT]").getAttribute("href");
            APIResponse download = page.request().get(base + consoleText);
            assertThat(download.status()).isEqualTo(200);
            assertThat(download.text()).contains("Kernel panic - not syncing: sysrq triggered crash");
            picture(page, "report");

            // The VM's timeline, newest first, with the crash in it, and an operator's command with the agent's answer.
            operator()
                    .post(
                            "/api/v1/commands",
                            Map.of("action", "REPORT", "targets", List.of(Map.of("hostId", hostId, "vmUuid", vmUuid))));
            page.locator("dd a", new Page.LocatorOptions().setHasText("timeline"))
                    .click();
            assertThat(page.locator("#timeline")).containsText("Crash");
            assertThat(page.locator("#incidents")).containsText("CRASH");
            assertThat(page).hasURL(base + "/vms/" + vmUuid);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        page.reload();
                        return page.locator("#commands tr", new Page.LocatorOptions().setHasText("SUCCEEDED"))
                                        .count()
                                > 0;
                    });
            assertThat(page.locator("#commands tbody tr").first()).containsText("REPORT");
            assertThat(page.locator("#commands tbody tr").first()).containsText("otto@vendor.example");
            assertThat(page.locator("#commands tbody tr").first()).containsText("reported ");

            // The VM's user sends feedback with a screenshot: the analyst sees the picture on the VM's page.
            FeedbackCommand.run(
                    new String[] {"--vm", vmUuid, "the screen froze after the panic", "--screenshot"},
                    agentConfig,
                    "test");
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        page.reload();
                        return page.locator("#feedback img.feedback-screenshot").count() > 0
                                && ((Number) page.evalOnSelector(
                                                        "#feedback img.feedback-screenshot",
                                                        "img => img.complete ? img.naturalWidth : 0"))
                                                .intValue()
                                        > 0;
                    });
            assertThat(page.locator("#feedback")).containsText("the screen froze after the panic");
            picture(page, "vm-timeline");

            // Release health of the guest's release.
            page.navigate(base + "/releases");
            page.locator("#releases a", new Page.LocatorOptions().setHasText("6.1-it"))
                    .click();
            assertThat(page.locator("h1")).hasText("TinyLinux 6.1-it");
            assertThat(page.locator("#release-reports")).not().hasText("0");
            // Where dispatch offers it, the rollout, its stages and the decisions of its gate.
            assertThat(page.locator("#release-channel")).containsText("beta");
            assertThat(page.locator("#release-channel")).containsText("PUBLISHED");
            assertThat(page.locator("#release-notes")).containsText("by otto@vendor.example");
            assertThat(page.locator("#rollouts .rollout")).hasCount(1);
            assertThat(page.locator("#rollouts")).containsText("6.0 → 6.1-it");
            assertThat(page.locator("#rollouts ol.stages li")).hasText(new String[] {"10%", "50%", "100%"});
            assertThat(page.locator("#rollouts .decisions tbody tr").first()).containsText("STARTED");
            assertThat(page.locator("#rollouts .decisions tbody tr").first()).containsText("otto@vendor.example");
            assertThat(operator().get("/api/v1/rollouts/" + rollout).status()).isEqualTo(200);
            picture(page, "release-health");
            analystSession.close();

            // An admin merges the other product's bucket into the panic's.
            BrowserContext adminSession = browser.newContext(viewport());
            Page admin = adminSession.newPage();
            admin.navigate(base + "/");
            signIn(admin, "admin");
            admin.locator("#buckets a", new Page.LocatorOptions().setHasText("OtherOS"))
                    .first()
                    .click();
            String target = bucketUrl.substring(bucketUrl.lastIndexOf('/') + 1);
            admin.fill("#merge input[name=into]", target);
            admin.fill("#merge input[name=reason]", "same guest panic");
            admin.locator("#merge button").click();
            assertThat(admin).hasURL(bucketUrl);
            assertThat(admin.locator("body")).containsText("Merged into this one");
            admin.selectOption("#collection-policy select", "kernel");
            admin.locator("#collection-policy button").click();
            assertThat(admin.locator("body")).containsText("Memory dumps: kernel");
            adminSession.close();
        } finally {
            if (domain != null) {
                Domains.remove(domain);
            }
            hypervisor.close();
            Devstack.deleteTree(work);
        }
    }

    /**
     * The console's access matrix, for every page and form it serves (read from its resource classes): no session, a
     * forged session cookie and a bearer token (which a browser application does not take) are each sent to sign in
     * at the identity provider, and no form acts for them. Wrong roles are the services' to refuse, through the
     * signed-in person's own token (an analyst's merge above is refused with 403).
     */
    @Test
    void everyPageAndFormSendsCallersWithoutASessionToSignIn() throws Exception {
        HttpClient http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        String id = UUID.randomUUID().toString();
        Map<String, String> callers = Map.of(
                "no session", "",
                "a forged session", "Cookie: q_session=" + "f".repeat(64),
                "an API token", "Authorization: Bearer " + ConsoleStack.identity.token("admin"));
        List<String> checked = new java.util.ArrayList<>();
        for (Class<?> pages : List.of(CrashPages.class, ReleasePages.class, VmPages.class, PastePage.class)) {
            String root = pages.getAnnotation(jakarta.ws.rs.Path.class).value();
            for (java.lang.reflect.Method method : pages.getDeclaredMethods()) {
                String verb = method.isAnnotationPresent(jakarta.ws.rs.GET.class)
                        ? "GET"
                        : method.isAnnotationPresent(jakarta.ws.rs.POST.class) ? "POST" : null;
                if (verb == null) {
                    continue;
                }
                jakarta.ws.rs.Path sub = method.getAnnotation(jakarta.ws.rs.Path.class);
                String path = (root + "/" + (sub == null ? "" : sub.value()))
                        .replaceAll("\\{[^}]+}", id)
                        .replaceAll("/+", "/");
                for (Map.Entry<String, String> caller : callers.entrySet()) {
                    HttpRequest.Builder request = HttpRequest.newBuilder(
                                    URI.create(console.toString().replaceAll("/$", "") + path))
                            .method(
                                    verb,
                                    verb.equals("POST")
                                            ? HttpRequest.BodyPublishers.ofString(
                                                    "into=" + id + "&text=x&url=x&dump=full")
                                            : HttpRequest.BodyPublishers.noBody());
                    if (verb.equals("POST")) {
                        request.header("Content-Type", "application/x-www-form-urlencoded");
                    }
                    if (!caller.getValue().isEmpty()) {
                        String[] header = caller.getValue().split(": ", 2);
                        request.header(header[0], header[1]);
                    }
                    HttpResponse<String> answer = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                    String what = verb + " " + path + " with " + caller.getKey();
                    assertThat(answer.statusCode()).as(what).isIn(302, 401);
                    if (answer.statusCode() == 302) {
                        assertThat(answer.headers().firstValue("Location").orElse(""))
                                .as(what + ": sent to sign in")
                                .startsWith(ConsoleStack.identity.issuer() + "/protocol/openid-connect/auth");
                    }
                    checked.add(what);
                }
            }
        }
        assertThat(checked)
                .hasSizeGreaterThanOrEqualTo(14 * 3)
                .contains("POST /buckets/" + id + "/merge with no session");
        // Health and metrics stay open, for probes and scrapers.
        assertThat(http.send(
                                HttpRequest.newBuilder(URI.create(console.toString() + "q/health/live"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void aPastedCrashIsSignedWithoutBeingStored() {
        try (Playwright playwright = Playwright.create();
                Browser browser = playwright.chromium().launch(chromium())) {
            Page page = browser.newContext(viewport()).newPage();
            page.navigate(console.toString() + "paste");
            signIn(page, "analyst");
            page.fill(
                    "#paste textarea",
                    String.join(
                            "\n",
                            List.of(
                                    "[   42.000001] BUG: kernel NULL pointer dereference, address: 0000000000000010",
                                    "[   42.000002] #PF: supervisor read access in kernel mode",
                                    "[   42.000003] RIP: 0010:acme_ring_poll+0x2a/0x90 [acme]",
                                    "[   42.000004] Call Trace:",
                                    "[   42.000005]  <TASK>",
                                    "[   42.000006]  acme_ring_poll+0x2a/0x90 [acme]",
                                    "[   42.000007]  net_rx_action+0x145/0x3e0",
                                    "[   42.000008]  __do_softirq+0xc8/0x2a8",
                                    "[   42.000009]  </TASK>")));
            page.locator("#paste button").click();
            assertThat(page.locator("#signature h2")).containsText("acme_ring_poll");
            assertThat(page.locator("#signature .frames")).containsText("net_rx_action");
            picture(page, "paste");

            page.navigate(console.toString() + "buckets/not-a-uuid");
            assertThat(page.locator("#error-title")).hasText("400 · Bad request");
        }
    }

    /**
     * Publishes TinyLinux 6.0 to the beta channel (its first release there, so the channel offers it) and 6.1-it, and
     * starts a staged rollout of 6.1-it; returns its id.
     */
    private static String startRollout(Path work) throws Exception {
        DispatchClient admin = new DispatchClient(ConsoleStack.dispatchUrl, ConsoleStack.identity.token("admin"));
        assertThat(admin.post("/api/v1/products", Map.of("id", PRODUCT, "name", PRODUCT, "description", "a guest"))
                        .status())
                .isEqualTo(201);
        Path image = work.resolve("image.raw");
        Files.write(image, new byte[64 * 1024]);
        for (String release : List.of("6.0", "6.1-it")) {
            new ReleaseUpload(operator(), new PrintStream(PrintStream.nullOutputStream()))
                    .upload(
                            PRODUCT,
                            Map.of(
                                    "release",
                                    release,
                                    "channel",
                                    "beta",
                                    "domainTemplate",
                                    TEMPLATE,
                                    "notes",
                                    "TinyLinux " + release),
                            "raw",
                            image,
                            Duration.ofMinutes(1));
            assertThat(operator()
                            .post("/api/v1/products/" + PRODUCT + "/releases/" + release + "/publish", Map.of())
                            .status())
                    .isEqualTo(200);
        }
        DispatchClient.Reply started = operator()
                .post(
                        "/api/v1/rollouts",
                        Map.of(
                                "product",
                                PRODUCT,
                                "release",
                                "6.1-it",
                                "stages",
                                List.of(10, 50, 100),
                                "minStageDuration",
                                "PT1H"));
        assertThat(started.status()).isEqualTo(201);
        return started.body().path("id").asText();
    }

    /**
     * An open programme of a product of its own, for the test's host to enrol in (outside the rollout of the guest's
     * product); returns its id.
     */
    private static String hostProgram() throws CliException {
        DispatchClient admin = new DispatchClient(ConsoleStack.dispatchUrl, ConsoleStack.identity.token("admin"));
        String product = "console-hosts";
        admin.post("/api/v1/products", Map.of("id", product, "name", "Console hosts", "description", "the test host"));
        String program = "console-hosts-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(admin.post(
                                "/api/v1/programs",
                                Map.of(
                                        "id",
                                        program,
                                        "product",
                                        product,
                                        "channel",
                                        "beta",
                                        "title",
                                        "Console hosts",
                                        "description",
                                        "where the test's host enrols",
                                        "open",
                                        true,
                                        "licenseDays",
                                        30,
                                        "features",
                                        List.of("beta")))
                        .status())
                .isEqualTo(201);
        return program;
    }

    private static DispatchClient operator() throws CliException {
        return new DispatchClient(ConsoleStack.dispatchUrl, ConsoleStack.identity.token("operator"));
    }

    private static void signIn(Page page, String user) {
        page.waitForSelector("#username");
        page.fill("#username", user);
        page.fill("#password", ConsoleStack.identity.password(user));
        page.click("#kc-login");
        page.waitForSelector("header.bar");
        assertThat(page.locator(".who .user")).isVisible();
    }

    private static BrowserType.LaunchOptions chromium() {
        return new BrowserType.LaunchOptions()
                .setExecutablePath(Path.of(System.getProperty("vigil.chromium", "/usr/bin/chromium")))
                .setHeadless(true)
                .setArgs(List.of(
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run"));
    }

    private static Browser.NewContextOptions viewport() {
        return new Browser.NewContextOptions().setViewportSize(1280, 900);
    }

    private static void picture(Page page, String name) {
        page.screenshot(new Page.ScreenshotOptions()
                .setPath(PICTURES.resolve(name + ".png"))
                .setFullPage(true));
    }
}
