package brig.seccomp;

import brig.json.Json;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For the build's AOT training run (brig.cli.Training): a bundle whose config carries a
 * profile shaped like the docker/podman default (an allow-list over three architectures,
 * argument conditions, the ERRNO default), so that `run --explain` on it puts the reader's and
 * the compiler's classes in the AOT cache. Measured in the issue 9 notify note.
 */
public final class Training {
    private Training() {}

    /** A bundle beside {@code config} (runc's default config) with the profile; returns its directory. */
    public static Path bundle(Path config, Path dir) throws IOException {
        JsonObject c = Json.parseQuietly(Files.readString(config)).getAsJsonObject();
        StringBuilder names = new StringBuilder();
        for (String n : ("read write openat close fstat newfstatat mmap mprotect munmap brk rt_sigaction rt_sigprocmask ioctl"
                + " pread64 readv writev access pipe2 dup3 nanosleep getpid socket connect sendmsg recvmsg execve exit_group"
                + " wait4 kill uname fcntl getdents64 getcwd chdir mkdirat unlinkat fchmodat fchownat setresuid setresgid"
                + " capget capset prctl arch_prctl futex set_tid_address clone3 epoll_pwait openat2 faccessat2").split(" ")) {
            names.append(names.isEmpty() ? "" : ",").append('"').append(n).append('"');
        }
        c.getAsJsonObject("linux").add("seccomp", Json.parseQuietly("""
                {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
                 "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
                 "syscalls":[{"names":[%s],"action":"SCMP_ACT_ALLOW"},
                  {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
                  {"names":["clone"],"action":"SCMP_ACT_ALLOW",
                   "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},
                  {"names":["keyctl"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}""".formatted(names)));
        Files.createDirectories(dir.resolve("rootfs"));
        Files.writeString(dir.resolve("config.json"), Json.compact(c));
        return dir;
    }
}
