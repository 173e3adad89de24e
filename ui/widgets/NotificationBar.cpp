// SPDX-License-Identifier: GPL-3.0-or-later
#include "NotificationBar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace greygate {

NotificationBar::NotificationBar(QWidget *parent)
    : QFrame(parent)
    , m_label(new QLabel(this))
    , m_dismiss(new QPushButton(tr("Dismiss"), this))
{
    setObjectName(QStringLiteral("notificationBar"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    m_label->setTextFormat(Qt::RichText);
    m_label->setWordWrap(true);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addWidget(m_label, 1);
    layout->addWidget(m_dismiss);
    connect(m_dismiss, &QPushButton::clicked, this, &NotificationBar::dismiss);
    setVisible(false);
}

void NotificationBar::show(const QString &title, const QString &text, bool cleared)
{
    m_queue.append(Item{title, text, cleared});
    while (m_queue.size() > kMaxKept)
        m_queue.removeAt(1); // keep the one on screen, drop the oldest waiting
    refresh();
}

QString NotificationBar::currentTitle() const
{
    return m_queue.isEmpty() ? QString() : m_queue.first().title;
}

void NotificationBar::dismiss()
{
    if (!m_queue.isEmpty())
        m_queue.removeFirst();
    refresh();
}

void NotificationBar::refresh()
{
    if (m_queue.isEmpty()) {
        setVisible(false);
        return;
    }
    const Item &i = m_queue.first();
    // Alert text comes from a proxy: escaped, never interpreted as markup.
    QString html = QStringLiteral("<b>") + i.title.toHtmlEscaped() +
                   QStringLiteral("</b> &mdash; ") + i.text.toHtmlEscaped();
    if (m_queue.size() > 1)
        html += tr(" <i>(%n more)</i>", nullptr, int(m_queue.size() - 1));
    m_label->setText(html);
    QPalette p = palette();
    p.setColor(QPalette::Window, i.cleared ? QColor(0xdf, 0xf0, 0xd8) : QColor(0xfc, 0xf8, 0xe3));
    setPalette(p);
    setVisible(true);
}

} // namespace greygate
