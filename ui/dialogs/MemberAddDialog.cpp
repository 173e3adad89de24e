// SPDX-License-Identifier: GPL-3.0-or-later
#include "MemberAddDialog.h"

#include "PolicyFieldValidator.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace greygate {

MemberAddDialog::MemberAddDialog(const QString &groupName, QWidget *parent)
    : QDialog(parent)
    , m_edit(new QPlainTextEdit(this))
    , m_error(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Add members to %1").arg(groupName));
    m_edit->setObjectName(QStringLiteral("members"));
    m_edit->setPlaceholderText(tr("one per line:\nboss@partner.example\n@partner.example\n"
                                  "*.cdn.example\n198.51.100.0/24"));
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setStyleSheet(QStringLiteral("color: #b00020"));
    m_error->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Members of \"%1\":").arg(groupName), this));
    layout->addWidget(m_edit, 1);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_edit, &QPlainTextEdit::textChanged, this, &MemberAddDialog::validate);
    resize(460, 320);
    validate();
}

void MemberAddDialog::setText(const QString &text)
{
    m_edit->setPlainText(text);
}

QStringList MemberAddDialog::members() const
{
    QStringList out;
    const QStringList lines = m_edit->toPlainText().split(u'\n');
    for (const QString &line : lines) {
        const QString m = line.trimmed();
        if (!m.isEmpty() && !out.contains(m))
            out.append(m);
    }
    return out;
}

QString MemberAddDialog::validationError() const
{
    const QStringList lines = m_edit->toPlainText().split(u'\n');
    bool any = false;
    for (int i = 0; i < lines.size(); ++i) {
        const QString m = lines.at(i).trimmed();
        if (m.isEmpty())
            continue;
        any = true;
        if (const QString e = PolicyFieldValidator::memberError(m); !e.isEmpty())
            return tr("line %1: %2").arg(i + 1).arg(e);
    }
    if (lines.size() > 100'000)
        return tr("at most 100,000 members at once: use CSV import for more");
    return any ? QString() : tr("enter at least one member");
}

void MemberAddDialog::validate()
{
    const QString error = validationError();
    m_error->setText(error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(error.isEmpty());
}

} // namespace greygate
