"""A real OpenLDAP server (Debian's ``slapd``) for the tests: generated configuration, test CA, seeded people.

``Slapd.start(tmp)`` writes a ``slapd.conf`` (schemas core, cosine, inetorgperson, nis and a small
test schema with Active Directory's ``userAccountControl`` and a start date; one mdb database), a
test CA with a server certificate for 127.0.0.1 (openssl CLI), loads the seed entries
offline with ``slapadd`` (which adds the operational ``entryUUID``), and starts slapd in the foreground
on two free ports: plain LDAP (with StartTLS) and LDAPS. ``stop()`` ends it.

The service account may read at most ``SERVICE_SIZE_LIMIT`` entries per search unless it pages
(the simple paged results control), as Active Directory allows 1,000: directory sync must page.
``reset_staff`` (re)writes the directory sync's part of the tree over LDAP: ``ou=staff`` (people in
department and team OUs, managers, a disabled account of each kind, more than one page) and
``ou=groups`` (groups for roles, a nested group, manager and department groups).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

BASE_DN = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "admin-secret"
SERVICE_DN = f"cn=learning-reader,ou=services,{BASE_DN}"
SERVICE_PASSWORD = "reader-secret"
PEOPLE_DN = f"ou=people,{BASE_DN}"
USER_FILTER = "(objectClass=inetOrgPerson)"
STAFF_DN = f"ou=staff,{BASE_DN}"
GROUPS_DN = f"ou=groups,{BASE_DN}"
FORMER_DN = f"ou=former,{BASE_DN}"
SERVICE_SIZE_LIMIT = 5

# A test schema: Active Directory's userAccountControl and a start date, on an auxiliary class.
TEST_SCHEMA = """
attributetype ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.99.2 NAME 'learningStartDate'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.3 NAME 'learningTestPerson' AUXILIARY
  MAY ( userAccountControl $ learningStartDate ) )
"""


def staff_dn(uid: str, *units: str) -> str:
    """``uid=…,ou=<team>,ou=<department>,ou=staff,…`` (units from the department down)."""
    return ",".join([f"uid={uid}", *(f"ou={unit}" for unit in reversed(units)), STAFF_DN])


# uid → (units, given name, surname, mail, extra attributes): the directory sync's people.
STAFF = {
    "lleiter": (("Bauamt", "Hochbau"), "Lena", "Leiter", "lena.leiter@example.org",
                {"employeeNumber": "1000", "learningStartDate": "2020-01-15"}),
    "abau": (("Bauamt", "Hochbau"), "Anna", "Bau", "anna.bau@example.org",
             {"employeeNumber": "1001", "learningStartDate": "20240301000000Z",
              "manager": "uid=lleiter,ou=Hochbau,ou=Bauamt,ou=staff,dc=example,dc=org"}),
    "bbau": (("Bauamt", "Tiefbau"), "Bernd", "Bau", "bernd.bau@example.org", {"employeeNumber": "1002"}),
    "cord": (("Ordnungsamt", "Bürgerbüro"), "Clara", "Ordnung", "clara.ordnung@example.org",
             {"employeeNumber": "1003", "learningStartDate": "01.04.2023"}),
    "dord": (("Ordnungsamt", "Bürgerbüro"), "Dieter", "Ordnung", "dieter.ordnung@example.org",
             {"employeeType": "disabled"}),
    "eord": (("Ordnungsamt", "Bürgerbüro"), "Emil", "Ordnung", "emil.ordnung@example.org",
             {"userAccountControl": "514"}),
    **{f"fill{n:02d}": (("Ordnungsamt", "Bürgerbüro"), "Fritz", f"Füller{n:02d}", f"fill{n:02d}@example.org", {})
       for n in range(1, 9)},
}
# group cn → members (people by uid, groups by "cn=…"): learning-admins holds it-team (nested).
GROUPS = {
    "learning-admins": ["cn=it-team"],
    "it-team": ["abau"],
    "projektgruppe": ["bbau"],
    "autoren": ["cord"],
    "fuehrungskraefte": ["cord"],
}


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS_DN}"


def staff_entries() -> list[tuple[str, list[str], dict]]:
    """(dn, object classes, attributes) of the sync's part of the tree, parents first."""
    entries = [(dn, ["organizationalUnit"], {"ou": dn.split(",")[0][3:]}) for dn in (STAFF_DN, GROUPS_DN, FORMER_DN)]
    units = sorted({units[:n] for units, *_rest in STAFF.values() for n in (1, 2)}, key=len)
    for path in units:
        dn = ",".join([*(f"ou={unit}" for unit in reversed(path)), STAFF_DN])
        entries.append((dn, ["organizationalUnit"], {"ou": path[-1]}))
    for uid, (path, given, surname, mail, extra) in STAFF.items():
        entries.append((staff_dn(uid, *path), ["inetOrgPerson", "learningTestPerson"],
                        {"uid": uid, "cn": f"{given} {surname}", "givenName": given, "sn": surname, "mail": mail,
                         "userPassword": f"{uid}-pw", **extra}))
    by_uid = {uid: staff_dn(uid, *path) for uid, (path, *_rest) in STAFF.items()}
    for cn, members in GROUPS.items():
        entries.append((group_dn(cn), ["groupOfNames"], {"cn": cn, "member": [
            group_dn(m[3:]) if m.startswith("cn=") else by_uid[m] for m in members]}))
    return entries

# uid → (given name, surname, mail, password)
PEOPLE = {
    "jdoe": ("Jana", "Doe", "jana.doe@example.org", "jana-directory-pw"),
    "mmuster": ("Max", "Muster", "max.muster@example.org", "max-directory-pw"),
    "kkollision": ("Karla", "Kollision", "karla@example.org", "karla-directory-pw"),
    "rrefused": ("Rolf", "Refused", "rolf@example.org", "rolf-directory-pw"),
    "ddeact": ("Dora", "Deaktiviert", "dora@example.org", "dora-directory-pw"),
    "tls": ("Tilo", "Tls", "tilo@example.org", "tilo-directory-pw"),
    "nomail": ("Nora", "Ohnemail", None, "nora-directory-pw"),
    "hidden": ("Hilde", "Hidden", "hilde@example.org", "hilde-directory-pw"),
    "bglass": ("Bruno", "Glass", "bruno@example.org", "bruno-directory-pw"),
}


def available() -> bool:
    return all(Path(p).exists() for p in (SLAPD, SLAPADD)) and shutil.which("openssl") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed test CA: (certificate, key)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", str(key), "-out", str(cert), "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return cert, key


def make_server_certificate(directory: Path, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 and localhost, signed by ``ca``."""
    cert, key, request = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                          "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key),
             "-out", str(request), cwd=directory)
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
             "-days", "2", "-extfile", str(extensions), "-out", str(cert), cwd=directory)
    key.chmod(0o600)
    return cert, key


def _ldif(people: dict) -> str:
    blocks = [
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: {PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=services,{BASE_DN}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: learning-reader\nuserPassword: {SERVICE_PASSWORD}",
    ]
    for uid, (given, surname, mail, password) in people.items():
        lines = [f"dn: uid={uid},{PEOPLE_DN}", "objectClass: inetOrgPerson", f"uid: {uid}",
                 f"cn: {given} {surname}", f"givenName: {given}", f"sn: {surname}", f"userPassword: {password}"]
        if mail:
            lines.append(f"mail: {mail}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


@dataclass
class Slapd:
    root: Path
    ldap_port: int = 0
    ldaps_port: int = 0
    ca_file: Path | None = None
    other_ca_file: Path | None = None
    process: subprocess.Popen | None = None
    people: dict = field(default_factory=lambda: dict(PEOPLE))

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def app_config(self, **overrides) -> dict:
        """The platform's settings (as ``make_app`` keywords) for this server over plain LDAP."""
        config = {"LDAP_URL": self.ldap_url, "LDAP_STARTTLS": False, "LDAP_BIND_DN": SERVICE_DN,
                  "LDAP_BIND_PASSWORD": SERVICE_PASSWORD, "LDAP_BASE_DN": PEOPLE_DN, "LDAP_USER_FILTER": USER_FILTER,
                  "LDAP_LOGIN_ATTRIBUTE": "uid", "LDAP_ID_ATTRIBUTE": "entryUUID", "LDAP_CA_FILE": "",
                  "LDAP_TIMEOUT": 5}
        config.update(overrides)
        return config

    def write_configuration(self) -> Path:
        data = self.root / "data"
        data.mkdir()
        tls = self.root / "tls"
        tls.mkdir()
        ca = make_ca(tls, "test-ca")
        self.ca_file = ca[0]
        self.other_ca_file = make_ca(tls, "other-ca")[0]
        cert, key = make_server_certificate(tls, ca)
        (self.root / "test.schema").write_text(TEST_SCHEMA)
        schemas = "\n".join(f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis"))
        schemas += f"\ninclude {self.root / 'test.schema'}"
        conf = self.root / "slapd.conf"
        conf.write_text(f"""{schemas}
modulepath {MODULES}
moduleload back_mdb
pidfile {self.root / "slapd.pid"}
argsfile {self.root / "slapd.args"}
TLSCACertificateFile {self.ca_file}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}

database mdb
maxsize 67108864
suffix "{BASE_DN}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {data}

limits dn.exact="{SERVICE_DN}" size.soft={SERVICE_SIZE_LIMIT} size.hard={SERVICE_SIZE_LIMIT} size.prtotal=unlimited

access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by dn.exact="{SERVICE_DN}" read
  by self read
  by * none
""")
        return conf

    def start(self) -> Slapd:
        conf = self.write_configuration()
        seed = self.root / "seed.ldif"
        seed.write_text(_ldif(self.people))
        subprocess.run([SLAPADD, "-f", str(conf), "-l", str(seed)], check=True, capture_output=True)
        self.ldap_port, self.ldaps_port = free_port(), free_port()
        self.log = (self.root / "slapd.log").open("wb")
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-d", "0", "-h", f"{self.ldap_url}/ {self.ldaps_url}/"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd ended at start: {(self.root / 'slapd.log').read_text()}")
            try:
                for port in (self.ldap_port, self.ldaps_port):
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening within 15 seconds")

    def admin_connection(self):
        """A connection bound as the directory's administrator, to change entries in a test."""
        import ldap3

        connection = ldap3.Connection(ldap3.Server("127.0.0.1", port=self.ldap_port), user=ADMIN_DN,
                                      password=ADMIN_PASSWORD, auto_bind=True, raise_exceptions=True)
        return connection

    def reset_staff(self) -> None:
        """Write the sync's part of the tree afresh (ou=staff, ou=groups, ou=former): each test starts from it."""
        import ldap3

        connection = self.admin_connection()
        try:
            for base in (GROUPS_DN, STAFF_DN, FORMER_DN):
                connection.raise_exceptions = False
                connection.search(base, "(objectClass=*)", search_scope=ldap3.SUBTREE, attributes=[])
                found = [item["dn"] for item in connection.response or [] if item.get("type") == "searchResEntry"]
                connection.raise_exceptions = True
                for dn in sorted(found, key=lambda d: -d.count(",")):  # leaves first
                    connection.delete(dn)
            for dn, classes, attributes in staff_entries():
                connection.add(dn, classes, attributes)
        finally:
            connection.unbind()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
