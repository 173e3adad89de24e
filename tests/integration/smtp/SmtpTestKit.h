// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What the SMTP proxy's integration tests share: swaks as a well-behaved client and the
// policy document they start greygated with.

#include "DaemonProcess.h"
#include "TestSupport.h" // writeFile()

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace greygate::test::smtp {

inline const QString Recipient = QStringLiteral("rcpt@example.test");
// partner.test bypasses greylisting (so its mail reaches the backend at once);
// spam@bad.test is a Blocked Sender; anyone else is greylisted.
inline const QString PartnerSender = QStringLiteral("bulk@partner.test");
inline const QString BlockedSender = QStringLiteral("spam@bad.test");
inline const QString GreylistedSender = QStringLiteral("alice@sender.example");

inline const QByteArray PolicyDocument = QByteArrayLiteral(R"({
  "policies": [{"id": 1, "narrative": "Partners skip greylisting", "action": "bypass",
                "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}],
  "groups": [{"name": "Blocked Senders", "members": ["spam@bad.test"]}]
})");

// Writes PolicyDocument into dir as policies.json: its path, or empty when it could not.
// greygated's arguments with --smtp-threads=N added when GREYGATE_TEST_SMTP_THREADS=N is
// set, so that the whole suite runs against the threaded proxy too (docs/smtp.md):
//   GREYGATE_TEST_SMTP_THREADS=2 ctest -L smtp
inline QStringList proxyArgs(QStringList args)
{
    const QByteArray threads = qgetenv("GREYGATE_TEST_SMTP_THREADS");
    if (!threads.isEmpty())
        args.append(u"--smtp-threads=" + QString::fromLatin1(threads));
    return args;
}

inline QString writePolicies(const QTemporaryDir &dir)
{
    const QString path = dir.filePath(QStringLiteral("policies.json"));
    return dir.isValid() && writeFile(path, PolicyDocument) ? path : QString();
}

struct Swaks
{
    int exitCode = -1;
    QString transcript;

    // swaks marks the server's error replies with "<**" and others with "<- ".
    bool refusedWith(const QString &codeAndStatus) const
    {
        return exitCode != 0 && transcript.contains(QStringLiteral("<** ") + codeAndStatus);
    }
    bool accepted() const { return exitCode == 0 && !transcript.contains(QStringLiteral("<** ")); }
};

// One message from `from` to `to` through 127.0.0.1:port, with `token` as its subject and
// in its body. extraArgs e.g. {"--local-interface", "127.0.0.2"}.
inline Swaks swaks(quint16 port, const QString &from, const QString &to, const QString &token,
                   const QStringList &extraArgs = {})
{
    const ProgramResult r =
        runProgram(QStringLiteral("swaks"),
                   QStringList{QStringLiteral("--server"), QStringLiteral("127.0.0.1"),
                               QStringLiteral("--port"), QString::number(port),
                               QStringLiteral("--helo"), QStringLiteral("client.sender.example"),
                               QStringLiteral("--from"), from, QStringLiteral("--to"), to,
                               QStringLiteral("--header"), QStringLiteral("Subject: ") + token,
                               QStringLiteral("--body"), QStringLiteral("Body of ") + token,
                               QStringLiteral("--timeout"), QStringLiteral("20")} +
                       extraArgs,
                   60'000);
    return {r.finished ? r.exitCode : -1, QString::fromUtf8(r.out + r.err)};
}

} // namespace greygate::test::smtp
