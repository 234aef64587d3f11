import java.io.FileWriter;
import java.util.HashMap;
import java.util.Map;

/**
 * bench/cold-sample.sh's sampler: runs brig.cli.Main in this JVM while a daemon thread reads
 * the main thread's stack every ~0.5 ms; at exit it appends, to the file named by the
 * system property brig.samples, the count per innermost three brig frames ("I") and per
 * package of the top frame ("O") and per top frame's method with the innermost brig frame ("T"). Safepoint-biased, but a thread in a system call is
 * sampled where it waits, so kernel waits show as the call they are in.
 */
public class ColdSampler {
    public static void main(String[] args) throws Exception {
        Thread main = Thread.currentThread();
        Map<String, Integer> inner = new HashMap<>(), outer = new HashMap<>(), tops = new HashMap<>();
        long t0 = System.nanoTime();
        Thread sampler = new Thread(() -> {
            while (true) {
                StackTraceElement[] st = main.getStackTrace();
                StringBuilder chain = new StringBuilder();
                int k = 0;
                for (StackTraceElement e : st) {
                    if (e.getClassName().startsWith("brig.") && k++ < 3) {
                        chain.append(e.getClassName().substring(5)).append('.').append(e.getMethodName()).append(':')
                                .append(e.getLineNumber()).append(" < ");
                    }
                }
                String top = st.length == 0 ? "?" : st[0].getClassName();
                String where = top.startsWith("jdk.internal.foreign") || top.startsWith("java.lang.invoke") ? "FFM/invoke"
                        : top.startsWith("brig.") ? "brig" : top.contains(".") ? top.substring(0, top.lastIndexOf('.')) : top;
                String firstBrig = "";
                for (StackTraceElement e : st) {
                    if (e.getClassName().startsWith("brig.")) {
                        firstBrig = e.getClassName().substring(5) + "." + e.getMethodName() + ":" + e.getLineNumber();
                        break;
                    }
                }
                String topMethod = st.length == 0 ? "?" : st[0].getClassName() + "." + st[0].getMethodName();
                synchronized (inner) {
                    tops.merge(topMethod + " < " + firstBrig, 1, Integer::sum);
                    inner.merge(chain.toString(), 1, Integer::sum);
                    outer.merge(where, 1, Integer::sum);
                }
                try {
                    Thread.sleep(0, 500_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "cold-sampler");
        sampler.setDaemon(true);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (inner) {
                StringBuilder b = new StringBuilder("SAMPLES main ms " + (System.nanoTime() - t0) / 1_000_000 + "\n");
                inner.forEach((k, v) -> b.append("I ").append(v).append(' ').append(k).append('\n'));
                outer.forEach((k, v) -> b.append("O ").append(v).append(' ').append(k).append('\n'));
                tops.forEach((k, v) -> b.append("T ").append(v).append(' ').append(k).append('\n'));
                try (FileWriter w = new FileWriter(System.getProperty("brig.samples"), true)) {
                    w.write(b.toString());
                } catch (Exception e) {
                    System.err.println("cold-sampler: " + e);
                }
            }
        }));
        sampler.start();
        brig.cli.Main.main(args);
    }
}
