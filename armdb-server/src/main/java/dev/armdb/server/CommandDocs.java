package dev.armdb.server;

import static dev.armdb.server.RespContext.is;
import static dev.armdb.server.RespContext.str;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * COMMAND, COMMAND COUNT/INFO/DOCS/LIST: {@link RespCommandTable} in Redis 7's reply shapes. Used by one thread at a
 * time, as {@link RespCommands}.
 */
final class CommandDocs {
    private final RespWriter out;

    CommandDocs(RespWriter out) {
        this.out = out;
    }

    void register(RespCommands.Binder b) {
        b.on("COMMAND", this::command);
    }

    private void command(List<byte[]> a) {
        if (a.size() == 1) {
            out.arrayHeader(RespCommandTable.size());
            for (RespCommandTable.Spec s : RespCommandTable.all()) {
                info(s);
            }
            return;
        }
        byte[] sub = a.get(1);
        if (is(sub, "COUNT") && a.size() == 2) {
            out.integer(RespCommandTable.size());
        } else if (is(sub, "LIST") && a.size() == 2) {
            out.arrayHeader(RespCommandTable.size());
            for (RespCommandTable.Spec s : RespCommandTable.all()) {
                out.bulk(s.name().toLowerCase(Locale.ROOT));
            }
        } else if (is(sub, "INFO")) {
            List<RespCommandTable.Spec> specs = named(a);
            out.arrayHeader(specs.size());
            for (RespCommandTable.Spec s : specs) {
                if (s == null) {
                    out.nullArray();
                } else {
                    info(s);
                }
            }
        } else if (is(sub, "DOCS")) {
            docs(a);
        } else if (is(sub, "HELP")) {
            out.arrayHeader(1);
            out.simple("COMMAND [COUNT | LIST | INFO [name ...] | DOCS [name ...]]");
        } else {
            throw new RespArgsException("ERR COMMAND " + str(sub).toUpperCase(Locale.ROOT)
                    + " is not supported by armdb (supported: COUNT, LIST, INFO, DOCS, HELP)");
        }
    }

    /** The specs named from argument 2 on (null for an unknown name), or all when none is named. */
    private static List<RespCommandTable.Spec> named(List<byte[]> a) {
        if (a.size() == 2) {
            return RespCommandTable.all();
        }
        List<RespCommandTable.Spec> specs = new ArrayList<>();
        for (int i = 2; i < a.size(); i++) {
            specs.add(RespCommandTable.find(a.get(i)));
        }
        return specs;
    }

    /** Redis 7's ten-element COMMAND INFO entry. */
    private void info(RespCommandTable.Spec s) {
        info(
                s.name().toLowerCase(Locale.ROOT),
                s.arity(),
                RespCommandTable.reportedFlags(s),
                s.firstKey(),
                s.lastKey(),
                s.step(),
                s.group());
        out.arrayHeader(s.subcommands().size());
        for (String sub : s.subcommands()) {
            info(
                    s.name().toLowerCase(Locale.ROOT) + "|" + sub.toLowerCase(Locale.ROOT),
                    -2,
                    List.of(),
                    0,
                    0,
                    0,
                    s.group());
            out.arrayHeader(0);
        }
    }

    /** The first nine elements of an entry (the caller writes the tenth: the subcommands). */
    private void info(String name, int arity, List<String> flags, int first, int last, int step, String group) {
        out.arrayHeader(10);
        out.bulk(name);
        out.integer(arity);
        out.setHeader(flags.size());
        for (String f : flags) {
            out.simple(f);
        }
        out.integer(first);
        out.integer(last);
        out.integer(step);
        out.setHeader(1);
        out.simple("@" + group);
        out.setHeader(0);
        out.arrayHeader(0);
    }

    private void docs(List<byte[]> a) {
        List<RespCommandTable.Spec> specs = new ArrayList<>(named(a));
        specs.removeIf(s -> s == null);
        out.mapHeader(specs.size());
        for (RespCommandTable.Spec s : specs) {
            out.bulk(s.name().toLowerCase(Locale.ROOT));
            out.mapHeader(3);
            out.bulk("summary");
            out.bulk(s.summary());
            out.bulk("since");
            out.bulk("1.0.0");
            out.bulk("group");
            out.bulk(s.group());
        }
    }
}
