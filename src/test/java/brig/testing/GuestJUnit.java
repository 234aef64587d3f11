package brig.testing;

import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.junit.platform.engine.discovery.DiscoverySelectors;

/**
 * Runs test methods of this project inside the cgroup v2 guest (started there with
 * {@link Vm#javaMain}): each argument is CLASS#METHOD. Prints one line per failure
 * ("FAILED METHOD: what it said", on one line) and then "tests N passed M failed", which the
 * host's test asserts on, so a test written for any cgroup version runs in the v2 guest too.
 */
public final class GuestJUnit {
    private GuestJUnit() {}

    public static void main(String[] args) {
        LauncherDiscoveryRequestBuilder b = LauncherDiscoveryRequestBuilder.request();
        for (String a : args) b.selectors(DiscoverySelectors.selectMethod(a));
        LauncherDiscoveryRequest request = b.build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, listener);
        TestExecutionSummary s = listener.getSummary();
        for (TestExecutionSummary.Failure f : s.getFailures()) {
            System.out.println("FAILED " + f.getTestIdentifier().getDisplayName() + ": "
                    + String.valueOf(f.getException()).replace('\n', ' '));
        }
        System.out.println("tests " + s.getTestsSucceededCount() + " passed " + (s.getTestsFailedCount() + s.getTestsAbortedCount()) + " failed");
        System.exit(0);
    }
}
