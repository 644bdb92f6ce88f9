"""Test hosts of the project's own: network namespaces (`ip netns`) joined by veth pairs to one
bridge in the root namespace, so that several server instances each have an address of their
own on one machine. Needs root (CAP_NET_ADMIN), as CI has.

    with Network() as net:              # bridge rtu<pid>br, 10.77.N.1/24 on the root side
        host = net.add_host()           # namespace rtu<pid>-h1, address 10.77.N.2
        subprocess.run([*host.prefix, "ip", "addr"])

Everything made is named after this process's pid; `Network.destroy` (also on an exception in
the `with` block) kills what still runs inside the namespaces and deletes them with the bridge,
and a new Network first removes what a killed earlier run of a now dead process left behind."""
import ipaddress
import os
import re
import signal
import subprocess

PREFIX = "rtu"


def ip(*args, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").stdout.splitlines() if line.strip()]


def permitted() -> tuple[bool, str]:
    """Whether this process may make namespaces, and if not, why (for a skip reason)."""
    probe = f"{PREFIX}{os.getpid()}-probe"
    done = ip("netns", "add", probe, check=False)
    if done.returncode != 0:
        return False, f"`ip netns add` is not permitted here: {done.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return True, ""


def kill_namespace_processes(namespace: str, sig=signal.SIGKILL):
    for pid in ip("netns", "pids", namespace, check=False).stdout.split():
        try:
            os.kill(int(pid), sig)
        except ProcessLookupError:
            pass


def remove_stale():
    """Deletes namespaces and bridges an earlier run left behind, when the process that made them
    (the pid in the name) is gone."""
    for name in namespaces():
        m = re.fullmatch(rf"{PREFIX}(\d+)-.*", name)
        if m and not _alive(int(m.group(1))):
            kill_namespace_processes(name)
            ip("netns", "del", name, check=False)
    for line in ip("-o", "link", "show").stdout.splitlines():
        m = re.match(rf"\d+: ({PREFIX}(\d+)br)[:@]", line)
        if m and not _alive(int(m.group(2))):
            ip("link", "del", m.group(1), check=False)


def free_subnet() -> ipaddress.IPv4Network:
    """The first 10.77.N.0/24 no interface of the root namespace has an address in."""
    used = ip("-o", "-4", "addr", "show").stdout
    for n in range(256):
        if f" 10.77.{n}." not in used:
            return ipaddress.IPv4Network(f"10.77.{n}.0/24")
    raise RuntimeError("no free 10.77.N.0/24 subnet")


class Host:
    """One namespace with one address on the network."""

    def __init__(self, namespace: str, address: str, veth: str = ""):
        self.namespace = namespace
        self.address = address
        self.veth = veth        # its root-side end

    @property
    def prefix(self) -> list[str]:
        """Prepended to a command, runs it inside the namespace (ip execs it in place, so the
        process started is the command itself)."""
        return ["ip", "netns", "exec", self.namespace]

    def run(self, *command, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, *command], **kwargs)

    def kill_all(self, sig=signal.SIGKILL):
        """Sends `sig` to every process inside the namespace."""
        kill_namespace_processes(self.namespace, sig)

    def pids(self) -> list[int]:
        return sorted(int(p) for p in ip("netns", "pids", self.namespace, check=False).stdout.split())


class Network:
    """A bridge in the root namespace (the subnet's first address) and hosts behind it."""

    def __init__(self):
        remove_stale()
        self.tag = f"{PREFIX}{os.getpid()}"
        self.bridge = f"{self.tag}br"
        self.subnet = free_subnet()
        addresses = self.subnet.hosts()
        self.gateway = str(next(addresses))
        self._addresses = addresses
        self.hosts: list[Host] = []
        self._made_bridge = False
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            self._made_bridge = True
            ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
        except BaseException:
            self.destroy()
            raise

    def add_host(self) -> Host:
        index = len(self.hosts) + 1
        namespace = f"{self.tag}-h{index}"
        outside, inside = f"{self.tag}h{index}", f"{self.tag}n{index}"
        host = Host(namespace, str(next(self._addresses)), outside)
        ip("netns", "add", namespace)
        self.hosts.append(host)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", namespace)
        ip("link", "set", outside, "master", self.bridge, "up")
        ip("-n", namespace, "addr", "add", f"{host.address}/{self.subnet.prefixlen}", "dev", inside)
        ip("-n", namespace, "link", "set", inside, "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        ip("-n", namespace, "route", "add", "default", "via", self.gateway)
        return host

    def remove_host(self, host: Host):
        """Kills what runs inside and deletes the namespace (its veth goes with it)."""
        host.kill_all()
        ip("netns", "del", host.namespace, check=False)
        if ip("link", "show", host.veth, check=False).returncode == 0:   # set up half-way
            ip("link", "del", host.veth, check=False)
        self.hosts.remove(host)

    def destroy(self):
        for host in list(self.hosts):
            self.remove_host(host)
        if self._made_bridge:
            ip("link", "del", self.bridge, check=False)
            self._made_bridge = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
