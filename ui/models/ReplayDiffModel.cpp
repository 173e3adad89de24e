// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReplayDiffModel.h"

#include <QLocale>

namespace greygate {

ReplayDiffModel::ReplayDiffModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void ReplayDiffModel::setResult(const QJsonObject &result)
{
    beginResetModel();
    m_result = result;
    m_groups = result.value(QStringLiteral("groups")).toArray();
    endResetModel();
}

QString ReplayDiffModel::verdictText(const QString &verdict)
{
    if (verdict == u"bypass")
        return tr("Bypass");
    if (verdict == u"greylist")
        return tr("Greylisted");
    if (verdict == u"block")
        return tr("Blocked");
    if (verdict == u"outbound")
        return tr("Outbound");
    return verdict;
}

QString ReplayDiffModel::summary() const
{
    if (m_result.isEmpty())
        return QString();
    const QLocale locale;
    const auto n = [&](const char *key) {
        return locale.toString(m_result.value(QLatin1String(key)).toInteger());
    };
    QString text =
        tr("%1 of %2 attempts would change: %3 now bypass, %4 now greylisted, "
           "%5 now blocked")
            .arg(n("changed"), n("replayed"), n("nowBypass"), n("nowGreylist"), n("nowBlock"));
    if (m_result.value(QStringLiteral("groupsOmitted")).toInteger() > 0)
        text += tr(" (%1 smaller groups not listed)").arg(n("groupsOmitted"));
    return text;
}

int ReplayDiffModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_groups.size());
}

int ReplayDiffModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ReplayDiffModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject g = m_groups.at(index.row()).toObject();
    const QJsonObject sample = g.value(QStringLiteral("samples")).toArray().at(0).toObject();
    if (role == Qt::UserRole && index.column() == Attempts)
        return g.value(QStringLiteral("count")).toInteger();
    if (role == Qt::UserRole)
        role = Qt::DisplayRole;
    if (role == Qt::ToolTipRole && index.column() == Sample) {
        QStringList lines;
        for (const QJsonValue &s : g.value(QStringLiteral("samples")).toArray())
            lines.append(tr("%1 from %2 to %3")
                             .arg(s[QStringLiteral("client")].toString(),
                                  s[QStringLiteral("sender")].toString(),
                                  s[QStringLiteral("recipient")].toString()));
        return lines.join(u'\n');
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(index.column())) {
    case Domain:
        return g.value(QStringLiteral("domain")).toString();
    case Now:
        return verdictText(g.value(QStringLiteral("now")).toString());
    case Attempts:
        return g.value(QStringLiteral("count")).toInteger();
    case Before: {
        QStringList parts;
        const QJsonObject from = g.value(QStringLiteral("from")).toObject();
        for (auto it = from.begin(); it != from.end(); ++it)
            parts.append(tr("%1: %2").arg(verdictText(it.key())).arg(it.value().toInteger()));
        return parts.join(QStringLiteral(", "));
    }
    case Sample:
        return tr("%1 -> %2")
            .arg(sample.value(QStringLiteral("sender")).toString(),
                 sample.value(QStringLiteral("recipient")).toString());
    case Policies: {
        const auto name = [](const QJsonObject &s, const char *key) {
            const qint64 id = s.value(QLatin1String(key)).toInteger();
            return id > 0 ? tr("policy %1").arg(id) : tr("none");
        };
        return tr("%1 -> %2").arg(name(sample, "beforePolicy"), name(sample, "afterPolicy"));
    }
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ReplayDiffModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers = {tr("Sender domain"), tr("Would now be"),
                                        tr("Attempts"),      tr("Was"),
                                        tr("Sample"),        tr("Deciding policy")};
    return headers.value(section);
}

} // namespace greygate
