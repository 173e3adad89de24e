// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "config/DaemonOptions.h"
#include "policy/PolicyChange.h"
#include "policy/PolicyDocument.h"

#include <optional>

namespace greygate {

class GreylistPolicyHandler;

// What the options say about policies at start-up: the --policies document and the
// --internal-domains / --internal-networks configuration. prepare() reads and validates all
// of it BEFORE the store is opened, so a bad document refuses the start and changes
// nothing; apply() then imports it (who = "policies-file") and sets the internal
// configuration (who = "config") through the handler, persisted and audited.
class PolicyStartup
{
public:
    static constexpr qint64 kMaxFileBytes = 64 * 1024 * 1024;
    static inline const QString kFileAuthor = QStringLiteral("policies-file");
    static inline const QString kConfigAuthor = QStringLiteral("config");

    explicit PolicyStartup(const DaemonOptions &options)
        : m_options(options)
    {}

    // False with *error naming the option, the file and the field at fault.
    bool prepare(QString *error);
    // Each change as it is made; the failed one's outcome (not ok) stops it.
    ChangeOutcome apply(GreylistPolicyHandler &handler, Seconds now);

    // "*.example.com" covers example.com and its subdomains; "example.com" only itself.
    static std::optional<QList<InternalDomain>> parseDomains(const QStringList &items,
                                                             QString *error);
    static std::optional<QList<Cidr>> parseNetworks(const QStringList &items, QString *error);

    bool hasDocument() const { return m_document.has_value(); }

private:
    const DaemonOptions &m_options;
    std::optional<PolicyDocument> m_document;
    std::optional<QList<InternalDomain>> m_domains;
    std::optional<QList<Cidr>> m_networks;
};

} // namespace greygate
