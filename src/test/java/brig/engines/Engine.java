package brig.engines;

import brig.image.Unpacker;
import brig.syscalls.Libc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** A container engine the tests drive with Brig as its runtime ({@link Podman}, {@link Containerd}). */
interface Engine extends AutoCloseable {
    /** Removes every container the tests left; returns what was left (containers, daemons' processes, cgroups, state). */
    List<String> removeAll() throws Exception;

    /** Starts the engine on the image made here. */
    @FunctionalInterface
    interface Starter<E extends Engine> {
        E start(EngineImage image) throws Exception;
    }

    /**
     * One engine for a test class, as a JUnit extension: started before all its tests (root
     * only) on the busybox image made here, checked for leftovers after each test, stopped
     * after all.
     *
     * <pre>{@code
     * @RegisterExtension static final Engine.PerClass<Podman> PODMAN = new Engine.PerClass<>(Podman::start, "containers, conmon or cgroups left");
     * }</pre>
     */
    final class PerClass<E extends Engine> implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
        private final Starter<E> starter;
        private final String leftovers;
        private Path scratch;
        private E engine;

        /** @param leftovers the assertion's words when a test left something behind */
        PerClass(Starter<E> starter, String leftovers) {
            this.starter = starter;
            this.leftovers = leftovers;
        }

        E get() {
            return engine;
        }

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            Assumptions.assumeTrue(Libc.geteuid() == 0, "the engines run Brig as root");
            scratch = Files.createTempDirectory("brig-engine");
            engine = starter.start(EngineImage.build(Files.createDirectories(scratch.resolve("image"))));
        }

        @Override
        public void afterEach(ExtensionContext context) throws Exception {
            if (engine != null) Assertions.assertEquals(List.of(), engine.removeAll(), leftovers);
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            try {
                if (engine != null) engine.close();
            } finally {
                engine = null;
                if (scratch != null) Unpacker.removeTree(scratch);
            }
        }
    }
}
