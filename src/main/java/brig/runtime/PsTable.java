package brig.runtime;

import java.util.List;

/** What `ps ID` prints: the host's ps output cut down to the container's processes, as runc does. */
public final class PsTable {
    private PsTable() {}

    /** The header and the lines whose PID column names one of {@code pids}. */
    public static String filter(String psOutput, List<Integer> pids) throws BrigException {
        String[] lines = psOutput.split("\n");
        String header = lines.length > 0 ? lines[0] : "";
        int column = List.of(header.trim().split("\\s+")).indexOf("PID");
        if (column < 0) throw new BrigException("couldn't find PID field in ps output");
        StringBuilder sb = new StringBuilder(header).append('\n');
        for (int k = 1; k < lines.length; k++) {
            if (lines[k].isEmpty()) continue;
            String[] fields = lines[k].trim().split("\\s+");
            int pid;
            try {
                pid = Integer.parseInt(fields[column]);
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                throw new BrigException("unable to parse pid: " + lines[k]);
            }
            if (pids.contains(pid)) sb.append(lines[k]).append('\n');
        }
        return sb.toString();
    }
}
