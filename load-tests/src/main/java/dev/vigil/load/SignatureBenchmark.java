package dev.vigil.load;

import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import dev.vigil.triage.signature.SignatureRules;
import dev.vigil.triage.signature.Signatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Signature generation per core: parse the console text of a real kernel report and sign it, one thread, over the
 * reports of crash triage's labelled corpus in turn: {@code original}, its first 29 reports (numbered 001-029, the
 * set earlier figures were measured on), or {@code all} of them (the logs without a kernel report left out). The
 * baseline in the same run reads the same texts line by line (what any look at the text costs), so the ratio says
 * what parsing and signing add.
 *
 * <p>Usage (from the repository root): {@code load-tests/run SignatureBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SignatureBenchmark {

    static final Path CORPUS = Path.of("services/crash-triage/src/test/resources/corpus/linux");

    /** Which reports: the first 29 of the corpus, or all of it. */
    @Param({"original", "all"})
    public String reports;

    private List<String> texts;
    private Signatures signatures;
    private int next;

    @Setup
    public void load() throws IOException {
        try (Stream<Path> files = Files.list(CORPUS)) {
            texts = files.filter(f -> f.toString().endsWith(".txt"))
                    .filter(f -> reports.equals("all")
                            || Character.isDigit(f.getFileName().toString().charAt(0)))
                    .sorted()
                    .map(f -> {
                        try {
                            return Files.readString(f);
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .filter(text -> LinuxConsoleParser.parse(text).isPresent())
                    .toList();
        }
        signatures = new Signatures(SignatureRules.current());
    }

    private String nextText() {
        String text = texts.get(next);
        next = (next + 1) % texts.size();
        return text;
    }

    /** Parse and sign one report. */
    @Benchmark
    public void signature(Blackhole sink) {
        KernelReport report = LinuxConsoleParser.parse(nextText()).orElseThrow();
        sink.consume(signatures.of(report, "1.0"));
    }

    /** The baseline: walk the same text line by line. */
    @Benchmark
    public void readLines(Blackhole sink) {
        String text = nextText();
        int lines = 0;
        for (int i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
            lines++;
        }
        sink.consume(lines);
    }

    public static void main(String[] args) throws Exception {
        new Runner(new OptionsBuilder()
                        .include(SignatureBenchmark.class.getSimpleName())
                        .forks(1)
                        .threads(1)
                        .warmupIterations(3)
                        .warmupTime(org.openjdk.jmh.runner.options.TimeValue.seconds(3))
                        .measurementIterations(5)
                        .measurementTime(org.openjdk.jmh.runner.options.TimeValue.seconds(5))
                        .build())
                .run();
    }
}
