// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReleaseRequest.h"

#include <QCoreApplication>

namespace greygate {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("greygate::ReleaseRequest", text);
}

bool hasControl(const QString &text)
{
    for (const QChar c : text) {
        if (c.category() == QChar::Other_Control)
            return true;
    }
    return false;
}

} // namespace

QString ReleaseRequest::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Triplet:
        return QStringLiteral("triplet");
    case Kind::Sender:
        return QStringLiteral("sender");
    case Kind::Domain:
        return QStringLiteral("domain");
    case Kind::Expect:
        return QStringLiteral("expect");
    }
    return {};
}

QString ReleaseRequest::validate() const
{
    const QString s = sender.trimmed(), d = domain.trimmed(), r = recipient.trimmed();
    switch (kind) {
    case Kind::Triplet:
        if (client.trimmed().isEmpty() || r.isEmpty())
            return tr("a triplet needs its client network and recipient: choose a row of the "
                      "queue");
        break;
    case Kind::Sender:
        if (!s.contains(u'@'))
            return tr("enter the sender's address (name@domain)");
        break;
    case Kind::Domain:
        if (d.isEmpty() || d.contains(u'@') || d.contains(u' '))
            return tr("enter the sender's domain (example.com), without an address");
        break;
    case Kind::Expect:
        if (s.isEmpty() == d.isEmpty())
            return tr("enter who the mail comes from: an address or a domain");
        if (!r.contains(u'@'))
            return tr("enter the recipient's address the mail is expected for");
        break;
    }
    if (seconds < kMinSeconds || seconds > kMaxSeconds)
        return tr("choose a duration between 1 minute and 90 days");
    if (reason.trimmed().isEmpty())
        return tr("enter a reason: it goes to the audit log");
    if (reason.size() > kMaxReason)
        return tr("the reason is longer than 500 characters: shorten it");
    if (hasControl(reason) || hasControl(s) || hasControl(d) || hasControl(r) || hasControl(client))
        return tr("remove the line breaks or control characters");
    return {};
}

QJsonObject ReleaseRequest::toParams() const
{
    QJsonObject o{{QStringLiteral("kind"), kindName(kind)},
                  {QStringLiteral("for"), seconds},
                  {QStringLiteral("reason"), reason.trimmed()}};
    const auto put = [&o](const char *key, const QString &value) {
        if (!value.trimmed().isEmpty())
            o.insert(QLatin1String(key), value.trimmed());
    };
    switch (kind) {
    case Kind::Triplet:
        put("client", client);
        put("sender", sender); // the null sender is an empty address: left out
        put("recipient", recipient);
        break;
    case Kind::Sender:
        put("sender", sender);
        break;
    case Kind::Domain:
        put("domain", domain);
        break;
    case Kind::Expect:
        put("sender", sender);
        put("domain", domain);
        put("recipient", recipient);
        break;
    }
    return o;
}

QString ReleaseRequest::describe() const
{
    const QString from = sender.trimmed().isEmpty() ? domain.trimmed() : sender.trimmed();
    switch (kind) {
    case Kind::Triplet:
        return tr("mail from %1 (%2) to %3")
            .arg(sender.isEmpty() ? QStringLiteral("<>") : sender, client, recipient);
    case Kind::Sender:
    case Kind::Domain:
        return tr("mail from %1").arg(from);
    case Kind::Expect:
        return tr("mail from %1 to %2").arg(from, recipient);
    }
    return {};
}

} // namespace greygate
