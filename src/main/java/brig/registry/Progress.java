package brig.registry;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer progress bars on a terminal (stderr), redrawn in place a few times a second;
 * nothing at all when stderr is not a terminal, so scripts and logs stay clean.
 */
public abstract sealed class Progress implements AutoCloseable permits Progress.Quiet, Progress.Terminal {

    /** One blob's transfer. */
    public interface Bar {
        void set(long done);

        void done(String status);
    }

    public abstract Bar bar(String label, long total);

    /** A line of its own (a warning), kept above the bars. */
    public abstract void note(String line);

    @Override
    public abstract void close();

    /**
     * Bars on {@code err} when {@code bars} (the caller's stderr is a terminal and the caller
     * did not ask for quiet); otherwise only the notes, as lines on {@code err}.
     */
    public static Progress of(PrintStream err, boolean bars) {
        return bars ? new Terminal(err) : new Quiet(err);
    }

    /** No bars; notes as lines on {@code err}. */
    public static Progress quiet(PrintStream err) {
        return new Quiet(err);
    }

    static final class Quiet extends Progress {
        private final PrintStream err;

        Quiet(PrintStream err) {
            this.err = err;
        }

        private static final Bar NONE = new Bar() {
            @Override
            public void set(long done) {}

            @Override
            public void done(String status) {}
        };

        @Override
        public Bar bar(String label, long total) {
            return NONE;
        }

        @Override
        public void note(String line) {
            err.println(line);
        }

        @Override
        public void close() {}
    }

    static final class Terminal extends Progress {
        private final PrintStream out;
        private final List<TBar> bars = new ArrayList<>();
        private int drawn;
        private final Thread painter;
        private volatile boolean closed;

        Terminal(PrintStream out) {
            this.out = out;
            painter = Thread.ofPlatform().daemon().name("brig-progress").start(() -> {
                while (!closed) {
                    draw();
                    try {
                        Thread.sleep(120);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        private final class TBar implements Bar {
            final String label;
            final long total;
            volatile long done;
            volatile String status;

            TBar(String label, long total) {
                this.label = label;
                this.total = total;
            }

            @Override
            public void set(long d) {
                done = d;
            }

            @Override
            public void done(String s) {
                status = s;
                done = total;
            }

            String line() {
                int width = 30;
                int fill = total <= 0 ? width : (int) Math.min(width, done * width / total);
                String bar = "=".repeat(fill) + (fill < width ? ">" + " ".repeat(width - fill - 1) : "");
                String state = status != null ? status : size(done) + " / " + size(total);
                return String.format("%-24s [%s] %s", label, bar, state);
            }
        }

        static String size(long b) {
            if (b < 1024) return b + " B";
            if (b < 1 << 20) return String.format("%.1f KiB", b / 1024.0);
            if (b < 1 << 30) return String.format("%.1f MiB", b / 1048576.0);
            return String.format("%.2f GiB", b / 1073741824.0);
        }

        @Override
        public synchronized Bar bar(String label, long total) {
            TBar b = new TBar(label, total);
            bars.add(b);
            return b;
        }

        @Override
        public synchronized void note(String line) {
            clear();
            out.println(line);
            drawn = 0;
            draw();
        }

        private void clear() {
            if (drawn > 0) out.print("\033[" + drawn + "A");
            for (int k = 0; k < drawn; k++) out.print("\r\033[K\n");
            if (drawn > 0) out.print("\033[" + drawn + "A");
        }

        private synchronized void draw() {
            StringBuilder sb = new StringBuilder();
            if (drawn > 0) sb.append("\033[").append(drawn).append('A');
            for (TBar b : bars) sb.append("\r\033[K").append(b.line()).append('\n');
            out.print(sb);
            out.flush();
            drawn = bars.size();
        }

        @Override
        public void close() {
            closed = true;
            painter.interrupt();
            try {
                painter.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            draw();
        }
    }
}
