package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Features;
import com.google.gson.FormattingStyle;
import com.google.gson.GsonBuilder;

/**
 * `brig features`: what this runtime supports, as the runtime-spec's features document
 * (brig.runtime.Features), indented by four spaces as runc prints it. It reads no container,
 * so it takes no lock.
 */
final class FeaturesCommand {
    private FeaturesCommand() {}

    static int run(Invocation inv, Args a) throws BrigFailure {
        a.exactly("features", 0);
        inv.out().println(new GsonBuilder().disableHtmlEscaping().setFormattingStyle(FormattingStyle.PRETTY.withIndent("    "))
                .create().toJson(Features.document(Main.VERSION)));
        return 0;
    }
}
