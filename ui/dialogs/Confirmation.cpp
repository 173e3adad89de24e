// SPDX-License-Identifier: GPL-3.0-or-later
#include "Confirmation.h"

#include <QCoreApplication>
#include <QMessageBox>
#include <QPushButton>

namespace greygate {

namespace {

int g_testAnswer = -1;

QString tr(const char *text)
{
    return QCoreApplication::translate("greygate::Confirmation", text);
}

} // namespace

void Confirmation::setTestAnswer(int answer)
{
    g_testAnswer = answer;
}

QString Confirmation::text(const QString &action, const QString &singular, const QString &plural,
                           const QStringList &items, const QString &consequence)
{
    const qsizetype n = items.size();
    QString t = n == 1 ? tr("%1 this %2?").arg(action, singular)
                       : tr("%1 these %2 %3?").arg(action).arg(n).arg(plural);
    t += QStringLiteral("\n\n");
    const qsizetype shown = std::min<qsizetype>(n, 10);
    for (qsizetype i = 0; i < shown; ++i)
        t += QStringLiteral("  • ") + items.at(i) + u'\n';
    if (n > shown)
        t += tr("  … and %1 more\n").arg(n - shown);
    if (!consequence.isEmpty())
        t += u'\n' + consequence;
    return t;
}

bool Confirmation::ask(QWidget *parent, const QString &action, const QString &singular,
                       const QString &plural, const QStringList &items, const QString &consequence)
{
    if (items.isEmpty())
        return false;
    if (g_testAnswer >= 0)
        return g_testAnswer > 0;
    QMessageBox box(QMessageBox::Warning, action,
                    text(action, singular, plural, items, consequence), QMessageBox::Cancel,
                    parent);
    QPushButton *yes = box.addButton(action, QMessageBox::DestructiveRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    return box.clickedButton() == yes;
}

} // namespace greygate
