package dev.vigil.agent.delivery;

import dev.vigil.schemas.delivery.ImageManifest;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * Downloads a release's whole master image before its VM starts: chunk after chunk into a {@link ChunkStore}, with
 * progress on the terminal, resuming after an interruption with only what is left.
 */
final class ImageDownload {

    /** Called between chunks: throws to stop the download (the vendor's interrupt). */
    @FunctionalInterface
    interface Check {
        void check() throws DeliveryException;
    }

    private final DispatchConnection dispatch;
    private final PrintStream out;
    private final Check go;

    ImageDownload(DispatchConnection dispatch, PrintStream out, Check go) {
        this.dispatch = dispatch;
        this.out = out;
        this.go = go;
    }

    /**
     * The verified master image at {@code target}, downloading what is not there yet.
     *
     * @param tenths told the bytes here at every tenth of the image
     */
    Path fetch(ImageManifest manifest, Path target, LongConsumer tenths) throws DeliveryException {
        if (Files.exists(target)) {
            return target;
        }
        try (ChunkStore store = ChunkStore.open(manifest, target, dispatch)) {
            resuming(out, store);
            Progress progress = new Progress(
                    out,
                    "downloading " + manifest.getProduct() + " " + manifest.getRelease(),
                    manifest.getSize(),
                    store.have(),
                    tenths);
            for (int i = 0; i < store.chunkCount(); i++) {
                // Whatever fails, what is verified on disk stays recorded (close): the next run resumes after it.
                go.check();
                store.ensure(i);
                progress.update(store.have());
            }
            progress.update(manifest.getSize());
            return store.finish();
        }
    }

    /** Says what an earlier run left, if anything. */
    static void resuming(PrintStream out, ChunkStore store) {
        if (store.have() > 0) {
            ImageManifest manifest = store.manifest();
            out.println(String.format(
                    Locale.ROOT,
                    "resuming %s %s: %.1f of %.1f MiB are here and verified",
                    manifest.getProduct(),
                    manifest.getRelease(),
                    store.have() / 1048576.0,
                    manifest.getSize() / 1048576.0));
        }
    }
}
