// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyStartup.h"

#include "policy/MailAddress.h"
#include "policy/PolicyJson.h"
#include "policy/PolicySet.h"
#include "policyd/GreylistPolicyHandler.h"

#include <QFile>

namespace greygate {

bool PolicyStartup::prepare(QString *error)
{
    if (m_options.internalDomains) {
        m_domains = parseDomains(*m_options.internalDomains, error);
        if (!m_domains) {
            *error = u"--internal-domains: " + *error;
            return false;
        }
    }
    if (m_options.internalNetworks) {
        m_networks = parseNetworks(*m_options.internalNetworks, error);
        if (!m_networks) {
            *error = u"--internal-networks: " + *error;
            return false;
        }
    }
    if (m_options.policiesFile.isEmpty())
        return true;

    const QString &path = m_options.policiesFile;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = u"--policies=" + path + u": " + file.errorString();
        return false;
    }
    if (file.size() > kMaxFileBytes) {
        *error = u"--policies=" + path + u": larger than 64 MiB";
        return false;
    }
    const QByteArray bytes = file.read(kMaxFileBytes + 1);
    QString why;
    m_document = PolicyJson::parse(bytes, &why);
    if (!m_document) {
        *error = u"--policies=" + path + u": " + why;
        return false;
    }
    // The options name the internal configuration explicitly: the file's would only be
    // replaced by them again at every start (two audit entries per restart).
    if (m_domains || m_networks)
        m_document->hasInternal = false;
    return true;
}

ChangeOutcome PolicyStartup::apply(GreylistPolicyHandler &handler, Seconds now)
{
    ChangeOutcome last;
    if (m_document) {
        last = handler.changePolicies(
            [&](PolicySet &set) { return set.importDocument(*m_document, kFileAuthor, now); });
        if (!last.ok())
            return last;
    }
    if (m_domains || m_networks) {
        last = handler.changePolicies([&](PolicySet &set) {
            InternalConfig internal = set.document().internal;
            if (m_domains)
                internal.domains = *m_domains;
            if (m_networks)
                internal.networks = *m_networks;
            if (internal == set.document().internal)
                return ChangeOutcome{};
            return set.setInternal(internal, kConfigAuthor, now);
        });
    }
    return last;
}

std::optional<QList<InternalDomain>> PolicyStartup::parseDomains(const QStringList &items,
                                                                 QString *error)
{
    QList<InternalDomain> out;
    for (const QString &item : items) {
        InternalDomain d;
        QString domain = MailAddress::normalise(item);
        if (domain.startsWith(u"*.")) {
            d.includeSubdomains = true;
            domain = domain.mid(2);
        }
        if (const QString p = MailAddress::domainProblem(domain); !p.isEmpty()) {
            *error = u'"' + item + u"\": " + p;
            return std::nullopt;
        }
        d.domain = domain;
        out.append(d);
    }
    return out;
}

std::optional<QList<Cidr>> PolicyStartup::parseNetworks(const QStringList &items, QString *error)
{
    QList<Cidr> out;
    for (const QString &item : items) {
        const std::optional<Cidr> c = Cidr::parse(QStringView(item), error);
        if (!c)
            return std::nullopt; // the error quotes the item and says why
        out.append(*c);
    }
    return out;
}

} // namespace greygate
