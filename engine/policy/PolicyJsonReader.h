// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyDocument.h"

#include <QJsonObject>
#include <QJsonValue>
#include <initializer_list>

namespace greygate {

// Reads a policy document (docs/policies.md, "JSON documents") into a PolicyDocument, or
// refuses it WHOLE with the first problem and the path of the field at fault
// ("policies[3].sourceRanges[0]: ..."). Unknown fields are refused too: a misspelt
// "sourceRange" silently ignored would widen a policy without anyone noticing.
class PolicyJsonReader
{
public:
    std::optional<PolicyDocument> read(QByteArrayView bytes, QString *error);
    // One object at a time, for the control API; groups resolve group names.
    std::optional<Policy> readPolicy(const QJsonObject &object, const QList<SenderGroup> &groups,
                                     QString *error);
    std::optional<SenderGroup> readGroup(const QJsonObject &object, QString *error);

private:
    bool fail(const QString &path, const QString &message);
    bool onlyKnown(const QJsonObject &o, const QString &path,
                   std::initializer_list<QStringView> known);
    bool string(const QJsonObject &o, QStringView key, const QString &path, QString *out,
                bool required = false);
    bool boolean(const QJsonObject &o, QStringView key, const QString &path, bool *out);
    bool integer(const QJsonObject &o, QStringView key, const QString &path, qint64 min, qint64 max,
                 qint64 *out);
    bool time(const QJsonObject &o, QStringView key, const QString &path,
              std::optional<Seconds> *out);
    bool array(const QJsonObject &o, QStringView key, const QString &path, QJsonArray *out);
    bool object(const QJsonValue &v, const QString &path, QJsonObject *out);
    bool specifier(const QJsonObject &o, const QString &path, bool from,
                   const QList<SenderGroup> &groups, Policy *policy);
    bool policy(const QJsonValue &v, const QString &path, const QList<SenderGroup> &groups,
                Policy *out);
    bool group(const QJsonValue &v, const QString &path, SenderGroup *out);
    bool autoAllow(const QJsonValue &v, const QString &path, AutoAllowEntry *out);
    bool internal(const QJsonValue &v, const QString &path, InternalConfig *out);

    QString m_error;
    qsizetype m_members = 0;
};

} // namespace greygate
