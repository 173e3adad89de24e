// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SenderRewriteRules.h"
#include "store/AuditRecord.h"
#include "store/DocumentRecord.h"

namespace greygate {

class Store;

// The sender rewriting table in the store: one document (DocumentKind::SenderRewrite, id
// "rewriting") holding SenderRewriteRules' JSON, written with its audit entry in one batch,
// so that a table survives a kill -9 once rewriting.set has answered.
class SenderRewriteDocument
{
public:
    static constexpr QByteArrayView kId = "rewriting";

    // The stored table, compiled-checked; the built-in table when none was ever saved.
    // nullopt with *error when the stored one cannot be read or is refused.
    static std::optional<SenderRewriteRules> load(Store &store, QString *error);
    static std::optional<SenderRewriteRules> fromRecords(const QList<DocumentRecord> &records,
                                                         QString *error);

    static DocumentRecord record(const SenderRewriteRules &rules, quint64 revision);
    static AuditRecord audit(const SenderRewriteRules &before, const SenderRewriteRules &after,
                             const QString &who, Seconds time, quint64 revision);
};

} // namespace greygate
