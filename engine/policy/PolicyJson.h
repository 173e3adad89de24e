// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyDocument.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace greygate {

// The JSON form of policies, groups, auto allow and the internal configuration
// (docs/policies.md, "JSON documents"): import, export, and the control API's objects.
class PolicyJson
{
public:
    static constexpr qsizetype kMaxDocumentBytes = 64 * 1024 * 1024;

    // THE entry point for untrusted bytes (import, --policies=FILE, fuzzing): the document,
    // or nullopt with *error naming the field at fault. Refused whole: nothing partial.
    static std::optional<PolicyDocument> parse(QByteArrayView bytes, QString *error);

    static QByteArray write(const PolicyDocument &document,
                            QJsonDocument::JsonFormat format = QJsonDocument::Indented);
    static QJsonObject toJson(const PolicyDocument &document);
    // Group specifiers are written as the group's name, looked up in `groups`.
    static QJsonObject policyToJson(const Policy &policy, const QList<SenderGroup> &groups);
    static QJsonObject groupToJson(const SenderGroup &group);
    static QJsonObject autoAllowToJson(const AutoAllowEntry &entry);
    static QJsonObject internalToJson(const InternalConfig &internal);

    // Objects without an id (0) get the next ids after the largest one present.
    template <typename T> static void assignIds(QList<T> *objects)
    {
        qint64 next = 0;
        for (const T &o : *objects)
            next = std::max(next, o.id);
        for (T &o : *objects) {
            if (o.id == 0)
                o.id = ++next;
        }
    }
};

} // namespace greygate
