// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// What a stored document is. The store does not read documents: kind and id only key them.
// The numbers are on disk (journal and database): never renumber, only add.
enum class DocumentKind : quint8
{
    Policy = 1,
    Group = 2,
    AutoAllow = 3,
    Internal = 4,
    SenderRewrite = 5, // the sender rewriting table (engine/greylist/SenderRewriteDocument)
};

constexpr bool isDocumentKind(quint8 kind)
{
    return kind >= quint8(DocumentKind::Policy) && kind <= quint8(DocumentKind::SenderRewrite);
}

// One object's new state, opaque to the store: put `json` under (kind, id), or, when
// removed, delete whatever is there. Among changes to one (kind, id) the last committed
// wins. revision: the change's place in its writer's history (the store keeps the highest
// one it was given, removals included, see Store::documentRevision()).
struct DocumentRecord
{
    DocumentKind kind = DocumentKind::Policy;
    QByteArray id;
    bool removed = false;
    quint32 version = 0;
    quint64 revision = 0;
    QByteArray json; // ignored (and not stored) when removed

    friend bool operator==(const DocumentRecord &, const DocumentRecord &) = default;
};

} // namespace greygate
